// Chatwoot sandbox agent console: renders the control API, polls it, never reloads the page.
'use strict';

// Every string in both languages side by side: [pt-BR, en]; a new key cannot miss one.
const TEXTS = {
  title: ['Sandbox do Chatwoot — console do agente', 'Chatwoot sandbox — agent console'],
  agent: ['Agente', 'Agent'],
  language: ['Idioma', 'Language'],
  mailbox: ['Caixa de e-mail', 'Mailbox'],
  empty: ['Nenhuma conversa ainda.', 'No conversations yet.'],
  live: ['ao vivo', 'live'],
  offline: ['sem conexão', 'offline'],
  open: ['aberta', 'open'],
  resolved: ['resolvida', 'resolved'],
  pending: ['pendente', 'pending'],
  snoozed: ['adiada', 'snoozed'],
  unassigned: ['sem responsável', 'unassigned'],
  contact: ['contato', 'contact'],
  agentKind: ['agente', 'agent'],
  template: ['modelo/bot', 'template/bot'],
  privateNote: ['nota privada', 'private note'],
  deleted: ['apagada', 'deleted'],
  edit: ['Editar', 'Edit'],
  remove: ['Apagar', 'Delete'],
  editPrompt: ['Novo texto da mensagem #{id}:', 'New text of message #{id}:'],
  removeConfirm: ['Apagar a mensagem #{id}?', 'Delete message #{id}?'],
  reply: ['Responder', 'Reply'],
  note: ['Nota privada', 'Private note'],
  assign: ['Atribuir a mim', 'Assign to me'],
  unassign: ['Remover responsável', 'Unassign'],
  resolve: ['Resolver', 'Resolve'],
  reopen: ['Reabrir', 'Reopen'],
  markPending: ['Pendente', 'Pending'],
  snooze: ['Adiar', 'Snooze'],
  placeholder: ['Resposta ou nota privada', 'Reply or private note'],
  files: ['Anexos', 'Attachments'],
  dashboard: [
    'Gravar quebras de linha como o painel (\\ + nova linha)',
    'Store line breaks as the dashboard does (\\ + newline)',
  ],
  question: ['Pergunta com opções (input_select)', 'Question with options (input_select)'],
  questionText: ['Pergunta', 'Question'],
  optionsText: ['Uma opção por linha', 'One option per line'],
  sendQuestion: ['Enviar pergunta', 'Send question'],
  options: ['Opções:', 'Options:'],
  answer: ['Resposta:', 'Answer:'],
  csat: ['Avaliação (CSAT): {rating}/5', 'Rating (CSAT): {rating}/5'],
  failed: ['Falhou', 'Failed'],
  needText: ['Escreva um texto ou anexe um arquivo.', 'Write some text or attach a file.'],
  needOptions: [
    'Escreva a pergunta e ao menos uma opção.',
    'Write the question and at least one option.',
  ],
  inbox: ['Caixa de entrada', 'Inbox'],
  enable_auto_assignment: ['Atribuição automática', 'Auto-assignment'],
  csat_survey_enabled: ['Pesquisa CSAT ao resolver', 'CSAT survey on resolve'],
  greeting_enabled: ['Saudação', 'Greeting'],
  greeting_message: ['Texto da saudação', 'Greeting text'],
  lock_to_single_conversation: ['Uma conversa por contato', 'One conversation per contact'],
  working_hours_enabled: ['Horário de atendimento', 'Working hours'],
  out_of_office_message: ['Texto fora do horário', 'Out-of-office text'],
  labels: ['Etiquetas', 'Labels'],
  labelsHint: ['separadas por vírgula', 'comma-separated'],
  setLabels: ['Trocar etiquetas', 'Replace labels'],
  priority: ['Prioridade', 'Priority'],
  none: ['nenhuma', 'none'],
  low: ['baixa', 'low'],
  medium: ['média', 'medium'],
  high: ['alta', 'high'],
  urgent: ['urgente', 'urgent'],
  contactTyping: ['o contato está digitando…', 'the contact is typing…'],
  seenAt: ['visto pelo contato: {at}', 'seen by the contact: {at}'],
};
const LANGS = ['pt-BR', 'en'];

const asked = new URLSearchParams(location.search).get('lang');
let lang = (asked && document.documentElement.lang) || localStorage.getItem('sandboxLang') || 'pt-BR';
if (!LANGS.includes(lang)) lang = 'pt-BR';
const seen = new Map();  // conversation id -> JSON text last rendered
const t = (key, vars) => ((TEXTS[key] || [])[LANGS.indexOf(lang)] || key)
  .replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function agentName() {
  return document.getElementById('agent').value.trim() || 'Sandbox Agent';
}

// The dashboard editor stores a line break inside a paragraph as a CommonMark hard break.
function asDashboard(text) {
  return text.split(/\n{2,}/).map((p) => p.split('\n').join('\\\n')).join('\n\n');
}

async function call(method, path, body, form) {
  const options = {method};
  if (form) options.body = body;
  else if (body !== undefined) {
    options.headers = {'Content-Type': 'application/json'};
    options.body = JSON.stringify(body);
  }
  const response = await fetch('/sandbox/api/' + path, options);
  if (!response.ok) throw new Error(response.status + ' ' + await response.text());
  await refresh();
}

function showError(card, error) {
  const box = card.querySelector('.error');
  box.textContent = error ? t('failed') + ': ' + error.message : '';
}

function fileList(message) {
  if (!message.attachments.length) return null;
  const box = el('div', {class: 'files'});
  for (const file of message.attachments) {
    const safe = /^https?:\/\//.test(file.data_url) ? file.data_url : '#';
    const link = el('a', {href: safe, target: '_blank', rel: 'noopener'});
    if (file.file_type === 'image' && /^https?:\/\//.test(file.thumb_url)) {
      link.append(el('img', {src: file.thumb_url, alt: file.data_url.split('/').pop()}));
    } else {
      link.textContent = '📎 ' + decodeURIComponent(file.data_url.split('/').pop().split('?')[0]);
    }
    box.append(link);
  }
  return box;
}

function optionList(message) {
  const items = message.content_attributes.items;
  const answer = message.content_attributes.submitted_values;
  if (!Array.isArray(items) || message.content_type !== 'input_select') return null;
  const chosen = new Set((Array.isArray(answer) ? answer : []).map((v) => v.value));
  const box = el('div', {class: 'options', text: t('options') + ' '});
  for (const item of items) {
    box.append(el('span', {class: chosen.has(item.value) ? 'chosen' : '', text: item.title}));
  }
  if (chosen.size) box.append(el('strong', {text: ' ' + t('answer') + ' ✓'}));
  return box;
}

function messageItem(conv, message) {
  if (message.message_type === 'activity') {
    return el('li', {class: 'activity', text: message.content || ''});
  }
  const deleted = message.content_attributes.deleted === true;
  const kind = message.private ? 'private'
    : {incoming: 'incoming', template: 'template'}[message.message_type] || 'outgoing';
  const who = message.sender ? message.sender.name : '—';
  const tags = [who];
  if (message.sender && message.sender.type === 'user') tags.push(t('agentKind'));
  if (message.message_type === 'template') tags.push(t('template'));
  if (message.private) tags.push(t('privateNote'));
  if (message.content_type !== 'text') tags.push(message.content_type);
  if (deleted) tags.push(t('deleted'));
  const when = new Date(message.created_at * 1000).toLocaleTimeString(lang);
  const meta = el('div', {class: 'meta', text: `${tags.join(' · ')} · ${when} · #${message.id}`});
  if (!deleted) {
    const path = `conversations/${conv.id}/messages/${message.id}`;
    const card = () => document.getElementById('conv-' + conv.id);
    meta.append(el('span', {class: 'mactions'},
      el('button', {type: 'button', text: t('edit'), onclick: () => {
        const text = prompt(t('editPrompt', {id: message.id}), message.content || '');
        if (text && text.trim()) call('PATCH', path, {content: text}).catch((e) => showError(card(), e));
      }}),
      el('button', {type: 'button', text: t('remove'), onclick: () => {
        if (confirm(t('removeConfirm', {id: message.id}))) {
          call('DELETE', path).catch((e) => showError(card(), e));
        }
      }})));
  }
  return el('li', {class: `${kind}${deleted ? ' deleted' : ''}`, 'data-id': String(message.id)},
    // Shown as the dashboard renders it: a stored hard break (\ + newline) is a line break.
    meta, el('div', {class: 'text', text: (message.content || '').replace(/\\\r?\n/g, '\n')}),
    fileList(message), optionList(message));
}

function head(conv) {
  const title = conv.custom_attributes.title ? ' ' + conv.custom_attributes.title : '';
  const attrs = Object.entries(conv.custom_attributes).map(([k, v]) => `${k}: ${v}`).join(', ');
  const csat = conv.csat_survey_response;
  return el('div', {class: 'head'},
    el('h2', {text: `#${conv.id}${title}`}),
    el('div', {class: 'meta'},
      el('span', {class: 'badge ' + conv.status, text: t(conv.status)}),
      ` · ${conv.contact.name} · ${conv.assignee ? conv.assignee.name : t('unassigned')}`),
    attrs ? el('div', {class: 'meta', text: attrs}) : null,
    (conv.labels && conv.labels.length) || conv.priority ? el('div', {class: 'meta',
      text: [conv.priority ? `${t('priority')}: ${t(conv.priority)}` : '',
        conv.labels && conv.labels.length ? `${t('labels')}: ${conv.labels.join(', ')}` : '']
        .filter(Boolean).join(' · ')}) : null,
    csat ? el('div', {class: 'meta', text: t('csat', {rating: csat.rating})
      + (csat.feedback_message ? ` — ${csat.feedback_message}` : '')}) : null,
    conv.contact_typing === 'on' ? el('div', {class: 'meta typing', text: t('contactTyping')}) : null,
    conv.contact_last_seen_at ? el('div', {class: 'meta', text: t('seenAt',
      {at: new Date(conv.contact_last_seen_at * 1000).toLocaleTimeString(lang)})}) : null);
}

// As the dashboard does: "typing" on at the first key, off after a pause or when sent.
function typingRelay(path, fail) {
  let timer = null;
  const say = (status) => call('POST', path + '/typing', {status, agent: agentName()}).catch(fail);
  return {
    key() {
      if (timer === null) say('on');
      else clearTimeout(timer);
      timer = setTimeout(() => { timer = null; say('off'); }, 3000);
    },
    stop() {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
      say('off');
    },
  };
}

function composer(conv) {
  const form = el('form', {'data-conv': String(conv.id)});
  const text = el('textarea', {name: 'content', placeholder: t('placeholder'), 'aria-label': t('placeholder')});
  const files = el('input', {type: 'file', name: 'attachments', multiple: '', 'aria-label': t('files')});
  const dashboard = el('input', {type: 'checkbox', name: 'dashboard', checked: ''});
  const question = el('textarea', {name: 'question', placeholder: t('questionText')});
  const options = el('textarea', {name: 'options', placeholder: t('optionsText')});
  const path = `conversations/${conv.id}`;
  const fail = (e) => showError(form.closest('.conv'), e);
  const labels = el('input', {name: 'labels', placeholder: t('labelsHint'), 'aria-label': t('labels'),
    value: (conv.labels || []).join(', ')});
  const priority = el('select', {name: 'priority', 'aria-label': t('priority'), onchange: () =>
    call('POST', path + '/priority', {priority: priority.value || null}).catch(fail)});
  for (const level of ['', 'low', 'medium', 'high', 'urgent']) {
    priority.append(el('option', {value: level, text: t(level || 'none')}));
  }
  priority.value = conv.priority || '';
  const typing = typingRelay(path, fail);
  text.addEventListener('input', () => typing.key());
  const send = (isPrivate) => {
    typing.stop();
    const body = text.value.trim() ? (dashboard.checked ? asDashboard(text.value) : text.value) : '';
    if (!body && !files.files.length) return fail(new Error(t('needText')));
    // Text alone goes as JSON, as the dashboard sends it; with files, as multipart (whose
    // text fields browsers send with CRLF line ends, which the sandbox keeps, as Rails does).
    let request;
    if (files.files.length) {
      const data = new FormData();
      if (body) data.append('content', body);
      data.append('private', isPrivate ? 'true' : 'false');
      data.append('agent', agentName());
      for (const file of files.files) data.append('attachments', file);
      request = call('POST', path + '/messages', data, true);
    } else {
      request = call('POST', path + '/messages', {content: body, private: isPrivate, agent: agentName()});
    }
    request
      .then(() => { text.value = ''; files.value = ''; showError(form.closest('.conv')); })
      .catch(fail);
  };
  const ask = () => {
    const items = options.value.split('\n').map((o) => o.trim()).filter(Boolean)
      .map((o) => ({title: o, value: o}));
    if (!question.value.trim() || !items.length) return fail(new Error(t('needOptions')));
    call('POST', path + '/messages', {content: question.value.trim(), message_type: 'template',
      content_type: 'input_select', content_attributes: {items}})
      .then(() => { question.value = ''; options.value = ''; }).catch(fail);
  };
  const action = (label, run, cls) => el('button', {type: 'button', class: cls || '', text: t(label),
    onclick: () => run().catch(fail)});
  form.append(text, files,
    el('label', {class: 'check'}, dashboard, t('dashboard')),
    el('button', {type: 'button', class: 'primary', text: t('reply'), onclick: () => send(false)}),
    el('button', {type: 'button', text: t('note'), onclick: () => send(true)}),
    action('assign', () => call('POST', path + '/assign', {agent: agentName(), by: agentName()})),
    action('unassign', () => call('POST', path + '/assign', {agent: null, by: agentName()})),
    ...[['resolve', 'resolved'], ['reopen', 'open'], ['markPending', 'pending'], ['snooze', 'snoozed']]
      .map(([label, status]) => action(label,
        () => call('POST', path + '/status', {status, agent: agentName()}))),
    el('details', {}, el('summary', {text: t('question')}), question, options,
      el('button', {type: 'button', text: t('sendQuestion'), onclick: ask})),
    el('details', {}, el('summary', {text: `${t('labels')} · ${t('priority')}`}), labels,
      el('button', {type: 'button', text: t('setLabels'), onclick: () => {
        const list = labels.value.split(',').map((l) => l.trim()).filter(Boolean);
        call('POST', path + '/labels', {labels: list}).catch(fail);
      }}),
      el('label', {class: 'check'}, t('priority'), priority)),
    el('div', {class: 'error', role: 'alert'}));
  return form;
}

function render(conv) {
  let card = document.getElementById('conv-' + conv.id);
  if (!card) {
    card = el('section', {class: 'conv', id: 'conv-' + conv.id},
      el('div', {class: 'head'}), el('ul', {class: 'msgs'}), composer(conv));
  }
  const list = card.querySelector('.msgs');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  card.querySelector('.head').replaceWith(head(conv));
  list.replaceChildren(...conv.messages.map((m) => messageItem(conv, m)));
  if (atBottom) list.scrollTop = list.scrollHeight;
  return card;
}

async function refresh() {
  const live = document.getElementById('live');
  let convs;
  try {
    const response = await fetch('/sandbox/api/conversations', {cache: 'no-store'});
    convs = await response.json();
    live.textContent = t('live');
    live.className = '';
  } catch (error) {
    live.textContent = t('offline');
    live.className = 'off';
    return;
  }
  const main = document.querySelector('main');
  convs.sort((a, b) => b.id - a.id);
  const cards = convs.map((conv) => {
    const json = JSON.stringify(conv);
    const existing = document.getElementById('conv-' + conv.id);
    if (existing && seen.get(conv.id) === json) return existing;
    seen.set(conv.id, json);
    return render(conv);
  });
  if (!cards.length) cards.push(el('p', {class: 'empty', text: t('empty')}));
  const same = cards.length === main.children.length && cards.every((c, i) => main.children[i] === c);
  if (!same) main.replaceChildren(...cards);
}

const SWITCHES = ['enable_auto_assignment', 'csat_survey_enabled', 'greeting_enabled',
  'lock_to_single_conversation', 'working_hours_enabled'];
const TEXT_SETTINGS = ['greeting_message', 'out_of_office_message'];

async function inboxPanel() {
  const panel = document.getElementById('inbox');
  const response = await fetch('/sandbox/api/inbox', {cache: 'no-store'});
  if (!response.ok) return;
  const settings = await response.json();
  const save = (body) => fetch('/sandbox/api/inbox', {method: 'PATCH',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const rows = SWITCHES.map((key) => {
    const box = el('input', {type: 'checkbox', name: key,
      onchange: () => save({[key]: box.checked})});
    box.checked = settings[key] === true;
    return el('label', {class: 'check'}, box, t(key));
  });
  const texts = TEXT_SETTINGS.map((key) => {
    const input = el('input', {name: key, 'aria-label': t(key), placeholder: t(key),
      value: settings[key] || '', onchange: () => save({[key]: input.value})});
    return el('label', {class: 'check'}, t(key), input);
  });
  panel.replaceChildren(el('summary', {text: t('inbox')}), ...rows, ...texts);
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t('title');
  document.querySelector('h1').textContent = t('title');
  document.getElementById('agent-label').textContent = t('agent');
  document.getElementById('lang-label').textContent = t('language');
  const mailLink = document.getElementById('mail-link');
  mailLink.textContent = t('mailbox');
  mailLink.href = '/sandbox/mail?lang=' + lang;
  seen.clear();
  document.querySelector('main').replaceChildren();
  refresh();
  inboxPanel();
}

const agentBox = document.getElementById('agent');
agentBox.value = localStorage.getItem('sandboxAgent') || 'Sandbox Agent';
agentBox.addEventListener('change', () => localStorage.setItem('sandboxAgent', agentBox.value));
const langBox = document.getElementById('lang');
langBox.value = lang;
langBox.addEventListener('change', () => {
  lang = langBox.value;
  localStorage.setItem('sandboxLang', lang);
  applyLanguage();
});
applyLanguage();
setInterval(refresh, 2000);
