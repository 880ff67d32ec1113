/** The head of a detail view: a way back, what it is, its name (as text), figures and actions. */
import { h, name } from './dom.js';
import type { Child } from './dom.js';
import { formatRoute } from './route.js';

/** A labelled figure beside a title: `members here 12`. */
export function chip(label: string, value: string): HTMLElement {
  return h(
    'span',
    { class: 'chip' },
    h('span', { class: 'chip-label' }, label),
    h('span', { class: 'chip-value' }, value),
  );
}

/** What a view head shows. */
export interface PageHead {
  /** `Channel`, `User`, `Search`. */
  readonly kind: string;
  /** The entity's name, shown as text (`#entity-name`). */
  readonly title: string;
  readonly chips?: readonly Child[];
  readonly actions?: readonly Child[];
  /** Adds a Refresh button. */
  readonly onRefresh?: () => void;
}

/** The head element. */
export function pageHead(head: PageHead): HTMLElement {
  const refresh =
    head.onRefresh === undefined
      ? null
      : h(
          'button',
          {
            class: 'btn btn-ghost',
            attrs: { type: 'button' },
            data: { action: 'refresh' },
            on: { click: head.onRefresh },
          },
          'Refresh',
        );
  return h(
    'div',
    { class: 'page-head' },
    h(
      'nav',
      { class: 'crumbs', attrs: { 'aria-label': 'Breadcrumb' } },
      h('a', { class: 'link', attrs: { href: formatRoute({ view: 'overview' }) } }, 'Overview'),
      h('span', { class: 'crumb-sep', attrs: { 'aria-hidden': 'true' } }, '/'),
      h('span', null, head.kind),
    ),
    h(
      'div',
      { class: 'page-title-row' },
      h('h1', { class: 'page-title' }, name(head.title, 'mono entity-name')),
      h('div', { class: 'page-actions' }, ...(head.actions ?? []), refresh),
    ),
    head.chips === undefined ? null : h('div', { class: 'chips' }, ...head.chips),
  );
}
