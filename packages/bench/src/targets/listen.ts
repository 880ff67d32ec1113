/** Listening for the in-process targets (raw ws, Socket.IO). */
import type { Server } from 'node:http';
import type { TargetConfig } from './target.js';

/** Listen on the configured address; resolves with the port bound (the kernel's pick for port 0). */
export async function listen(http: Server, config: TargetConfig): Promise<number> {
  await new Promise<void>((resolve) => http.listen(config.port, config.host, resolve));
  const address = http.address();
  return typeof address === 'object' && address !== null ? address.port : config.port;
}
