() => { setTimeout(() => {
  // After a reply has rendered: scroll the chat (not the page) to the newest question, so that
  // its answer is read first rather than its last citation.
  const last = [...document.querySelectorAll('#qa-chat .user-row, #qa-chat .qa-reply')].at(-2);
  let chat = last && last.parentElement;
  while (chat && !(chat.scrollHeight > chat.clientHeight + 1 && getComputedStyle(chat).overflowY !== 'visible'))
    chat = chat.parentElement;
  if (chat && chat !== document.documentElement && chat !== document.body)
    chat.scrollTop += last.getBoundingClientRect().top - chat.getBoundingClientRect().top - 8;
}, 150); }
