/**
 * An embedded MQTT broker (aedes, in-process) for the devnet and tests. aedes 1.x speaks MQTT 3.1.1 only: no MQTT 5
 * properties and no shared subscriptions, so gateways and devices on it use protocolVersion 4 (the correlation
 * travels as a topic level, device-sdk/mqtt-topics.ts). Production runs a real broker (mosquitto, EMQX) with MQTT 5.
 */
import { createServer, type AddressInfo, type Socket } from "node:net";

export interface EmbeddedBroker {
  /** mqtt://127.0.0.1:{port} */
  url: string;
  port: number;
  /** MQTT protocol version clients must use with this broker. */
  protocolVersion: 4;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { port?: number; host?: string } = {}): Promise<EmbeddedBroker> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    broker.handle(socket);
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    protocolVersion: 4,
    async close() {
      await new Promise<void>((r) => broker.close(() => r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
