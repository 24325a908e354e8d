/** Ports for tests that need a connection to fail. */
import { createServer, type AddressInfo } from 'node:net';

/** A loopback port nobody listens on: bound, then closed (so a connect is refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
