// Global setup: real services shared by the integration tests (Redis is added by the stream work).
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}
