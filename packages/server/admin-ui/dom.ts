/**
 * Building DOM without HTML strings: every value the page shows (channel names, user ids, messages,
 * error texts) becomes a text node, so nothing a client chose can become markup. The page never uses
 * innerHTML, insertAdjacentHTML or document.write; review any change here with that in mind.
 */

/** What may be appended as a child: a node, or text (numbers are written as they are), nothing for null. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes and listeners of {@link h}. */
export interface Props {
  readonly class?: string;
  readonly id?: string;
  readonly title?: string;
  /** Plain attributes (`href`, `type`, `aria-*`); values are set as attribute text, never parsed. */
  readonly attrs?: Readonly<Record<string, string>>;
  /** `data-*` attributes, by their camelCase name. */
  readonly data?: Readonly<Record<string, string>>;
  /** Event listeners (no inline handler attributes: the page's CSP refuses them). */
  readonly on?: { readonly [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

/** A new element with `props` and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props !== null) {
    if (props.class !== undefined) element.className = props.class;
    if (props.id !== undefined) element.id = props.id;
    if (props.title !== undefined) element.title = props.title;
    for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
    for (const [name, value] of Object.entries(props.data ?? {})) element.dataset[name] = value;
    for (const [type, listener] of Object.entries(props.on ?? {}))
      element.addEventListener(type, listener as EventListener);
  }
  append(element, ...children);
  return element;
}

/** Append `children` to `parent`, text as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `parent` with `children`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/**
 * A name someone else chose (a channel, a user id, a node id), isolated for bidirectional text so an RTL
 * name cannot reorder the words around it, in monospace, with its full text as the tooltip.
 */
export function name(text: string, className = 'mono'): HTMLElement {
  return h('bdi', { class: className, title: text }, text);
}

/** An element by id that the page's HTML must contain; throws (a broken page) when it does not. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** A small rounded label: `ok`, `draining`, `degraded`; `tone` picks its colour. */
export function pill(text: string, tone: 'ok' | 'warn' | 'bad' | 'muted' | 'info' = 'muted'): HTMLElement {
  return h('span', { class: `pill pill-${tone}` }, text);
}

/** A table with a header row of `columns` and `rows`; `empty` (text) as one row when there are none. */
export function table(
  columns: readonly (string | { readonly label: string; readonly class: string })[],
  rows: readonly HTMLTableRowElement[],
  empty: string,
  className = '',
): HTMLTableElement {
  const head = h(
    'tr',
    null,
    ...columns.map((c) =>
      typeof c === 'string'
        ? h('th', { attrs: { scope: 'col' } }, c)
        : h('th', { class: c.class, attrs: { scope: 'col' } }, c.label),
    ),
  );
  const body =
    rows.length > 0
      ? h('tbody', null, ...rows)
      : h(
          'tbody',
          null,
          h('tr', { class: 'empty' }, h('td', { attrs: { colspan: String(columns.length) } }, empty)),
        );
  return h('table', { class: `table ${className}`.trim() }, h('thead', null, head), body);
}

/** A table row of `cells`: a `td` as it is, null left out, anything else wrapped in a `td`. */
export function row(...cells: (Child | HTMLTableCellElement)[]): HTMLTableRowElement {
  return h(
    'tr',
    null,
    ...cells
      .filter((cell) => cell !== null)
      .map((cell) => (cell instanceof HTMLTableCellElement ? cell : h('td', null, cell))),
  );
}

/** A right-aligned numeric cell. */
export function numCell(text: string, title?: string): HTMLTableCellElement {
  return h('td', title === undefined ? { class: 'num' } : { class: 'num', title }, text);
}

/** A card: a titled panel with optional header actions. */
export function card(
  title: string,
  body: Child | Child[],
  options: { readonly actions?: Child[]; readonly class?: string; readonly subtitle?: Child } = {},
): HTMLElement {
  return h(
    'section',
    { class: `card ${options.class ?? ''}`.trim() },
    h(
      'header',
      { class: 'card-head' },
      h(
        'div',
        { class: 'card-titles' },
        h('h2', null, title),
        options.subtitle ? h('p', { class: 'card-sub' }, options.subtitle) : null,
      ),
      options.actions ? h('div', { class: 'card-actions' }, ...options.actions) : null,
    ),
    h('div', { class: 'card-body' }, ...(Array.isArray(body) ? body : [body])),
  );
}
