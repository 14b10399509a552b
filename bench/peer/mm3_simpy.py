"""The M/M/3 network of bench/peer/mm3-200k.json in SimPy, the usual Python discrete-event
simulator: Poisson arrivals at 25/s, three servers with exponential service (mean 100 ms),
one FIFO queue, 200,000 messages. Prints the count and mean time in system, as a check that
both simulators ran the same model (scripts/bench-peer.sh compares their CPU time)."""

import random
import sys

import simpy

LAMBDA = 25.0
MU = 10.0
SERVERS = 3


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    random.seed(1)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    times = []

    def message(env):
        arrived = env.now
        with servers.request() as turn:
            yield turn
            yield env.timeout(random.expovariate(MU))
        times.append(env.now - arrived)

    def arrivals(env):
        for _ in range(messages):
            yield env.timeout(random.expovariate(LAMBDA))
            env.process(message(env))

    env.process(arrivals(env))
    env.run()
    print(f"simpy: {len(times)} messages, mean time in system {1000 * sum(times) / len(times):.1f} ms")


if __name__ == "__main__":
    main()
