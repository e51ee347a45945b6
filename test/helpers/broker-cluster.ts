// What every clustered engine the tests start looks like (a NATS cluster, embedded brokers sharing
// Redis), so one scenario runs on either and brokers.ts wraps both the same way.

export interface ClusterNode {
  name: string;
  /** mqtt://127.0.0.1:PORT */
  mqttUrl: string;
  mqttPort: number;
  running(): boolean;
}

export interface BrokerCluster<N extends ClusterNode = ClusterNode> {
  nodes: readonly N[];
  /** SIGKILLs node `i` (0-based): no goodbye to the cluster, no Wills published by it. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again on the same ports and state, and waits until it serves MQTT. */
  restart(i: number): Promise<void>;
  /** Output of node `i` so far (for failure messages). */
  log(i: number): string;
  stop(): Promise<void>;
}
