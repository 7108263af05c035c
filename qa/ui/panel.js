// The article panel's script (gr.HTML js_on_load), run once when the page loads. It scrolls the
// panel to the cited passage, and flashes it, whenever the panel is opened (every opening changes
// the panel's HTML, even for the passage already shown, so a click always shows where it points);
// and it listens to clicks on the page: citations, article titles, Remove, Copy.
window.__qaTrigger = trigger;
const toCited = () => setTimeout(() => {
  const box = element.querySelector('.qa-article-body');
  const cited = box && box.querySelector('.qa-badge, .qa-line.qa-cited');
  if (box) box.scrollTop = cited ? Math.max(0, cited.offsetTop - 48) : 0;
  const view = element.querySelector('.qa-page-view');  // a page of a PDF: at its first marked line
  const mark = view && view.querySelector('.qa-page-mark, .qa-page-cited');
  if (view) {
    view.scrollTop = mark ? Math.max(0, mark.offsetTop - 40) : 0;
    view.scrollLeft = mark ? Math.max(0, mark.offsetLeft - 16) : 0;
  }
  for (const part of element.querySelectorAll('.qa-article-body .qa-cited')) {
    part.classList.remove('qa-flash');
    void part.offsetWidth;  // restart the animation
    part.classList.add('qa-flash');
  }
  if (window.__qaClicked) {  // opened by a click: bring the panel into view (below the chat on a phone)
    window.__qaClicked = false;
    const top = element.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) element.scrollIntoView({block: 'start'});
  }
}, 60);
watch('value', toCited);
// The question box takes the focus on a wide screen only, without scrolling: on a phone the focus
// would scroll the page past its header and open the keyboard before anything was read.
const focusQuestion = (tries) => {
  const question = document.querySelector('#qa-question textarea');
  if (!question) {
    if (tries > 0) setTimeout(() => focusQuestion(tries - 1), 100);
    return;
  }
  if (window.matchMedia('(min-width: 768px)').matches) question.focus({preventScroll: true});
};
focusQuestion(20);
if (!window.__qaListening) {
  window.__qaListening = true;
  const copyText = async (text, button) => {
    window.__qaLastCopy = text;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // not a secure context (http on another address): the old way
      const area = document.createElement('textarea');
      area.value = text; area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); } finally { area.remove(); }
    }
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const copy = event.target.closest('.qa-copy');
    if (copy) {
      event.preventDefault();
      const plain = copy.closest('.qa-reply')?.querySelector('.qa-plain');
      if (plain) copyText(plain.textContent, copy);
      return;
    }
    const link = event.target.closest('a.qa-act');
    const href = link ? link.getAttribute('href') || '' : '';
    if (!href.startsWith('#qa:')) return;
    event.preventDefault();
    event.stopPropagation();
    const rest = href.slice(4);
    const act = rest.split(':', 1)[0];
    const ref = rest.slice(act.length + 1);
    if (act === 'remove') {
      if (window.confirm(link.title + '?')) window.__qaTrigger('qa_remove', {ref});
    } else {
      window.__qaClicked = true;
      window.__qaTrigger('click', {act, ref});
    }
  }, true);
}
