// "On this page": a list of links to a long page's sections (every section's h2), so a referral's
// page can be read part by part. Page addresses after # belong to the page's router, so the links
// move focus to the section's heading instead of changing the address.

import { focusOn, h, replace } from './dom.js';

/** Fill `nav` (an empty <nav>) with links to the h2 headings with ids inside `root`. */
export function fillContents(nav, root) {
  const headings = [...root.querySelectorAll('section h2[id]')];
  if (headings.length < 3) {
    nav.remove();
    return;
  }
  const links = headings.map((heading) => {
    const link = h('a', { href: `#${heading.id}` }, heading.textContent);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      heading.scrollIntoView({ block: 'start' });
      focusOn(heading);
    });
    return h('li', {}, link);
  });
  nav.setAttribute('aria-labelledby', 'contents-title');
  replace(nav, h('h2', { id: 'contents-title', class: 'contents__title' }, 'On this page'), h('ul', {}, links));
}

/** An empty navigation landmark for fillContents. */
export const contentsNav = () => h('nav', { class: 'contents' });
