/**
 * The channel map of the typed tests: what an application declares once in its shared code and gives to
 * both `createServer<App>()` and `new SwitchboardClient<App>()`.
 */
import type { ChannelMap } from '@switchboard/protocol';

export interface ChatMessage {
  readonly text: string;
  readonly from: string;
}

/** A union payload: a channel's payload may itself be a union. */
export type JobProgress = { readonly percent: number } | { readonly done: true };

export interface Notification {
  readonly title: string;
}

export interface JobRequest {
  readonly start: string;
}

export interface JobTicket {
  readonly jobId: string;
}

export type App = ChannelMap<
  {
    'chat:*': ChatMessage;
    'job:*': JobProgress;
    'user:*': Notification;
    lobby: string;
  },
  {
    send: { request: JobRequest; reply: JobTicket };
    direct: Notification;
    broadcast: { readonly motd: string };
  }
>;
