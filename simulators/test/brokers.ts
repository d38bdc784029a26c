/**
 * The MQTT brokers the simulators' integration tests run against: an aedes the test starts on a
 * free port, and the Mosquitto already running on the machine (required when CI=true).
 */
import { type AddressInfo, createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { service } from "../../test-support/services.js";

export interface Broker {
  url: string;
  close(): Promise<void>;
}

export async function startAedes(): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface BrokerUnderTest {
  name: string;
  skip: boolean;
  start: () => Promise<Broker>;
}

/** aedes started by the test, and the machine's Mosquitto at 127.0.0.1:1883. */
export async function brokersUnderTest(): Promise<BrokerUnderTest[]> {
  const mosquitto = await service.mosquitto();
  return [
    { name: "aedes (started by the test)", skip: false, start: startAedes },
    {
      name: `Mosquitto at 127.0.0.1:1883 ${mosquitto.reason}`,
      skip: !mosquitto.available,
      start: async () => ({ url: mosquitto.url, close: async () => {} }),
    },
  ];
}
