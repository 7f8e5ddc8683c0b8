// Night mode (red on black, for dark-adapted eyes) as remembered, applied before the page paints: a classic script in
// <head>, so a dark-adapted reader never sees a flash of the bright page. The toggle itself lives in app.js.
try {
  if (localStorage.getItem('orrery:night') === 'on') document.documentElement.dataset.night = 'on';
} catch {
  // storage blocked: the page starts in its normal colours
}
