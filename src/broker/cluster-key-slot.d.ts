// cluster-key-slot ships no types: the CRC16 slot (0..16383) Redis Cluster and ioredis route a key by, honouring {hash tags}.
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
