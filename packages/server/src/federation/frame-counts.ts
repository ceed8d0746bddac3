// Federation frames counted by type and direction, on the homeserver's
// metrics registry (`parley_federation_frame_types_total{direction,type}`):
// how many copies of each kind of frame a server sends and receives, so a
// routing claim such as "every server receives a message exactly once" can be
// checked from outside. The labels come from the fixed set of frame types,
// plus `undecodable` for inbound bytes that are no frame.

import type { FrameType } from "@parley/federation";
import { Counter, type Registry } from "prom-client";

export type CountedFrameType = FrameType | "undecodable";

export interface FrameCounts {
  sent(type: CountedFrameType): void;
  received(type: CountedFrameType): void;
}

const metricName = "parley_federation_frame_types_total";

export function createFrameCounts(registry: Registry): FrameCounts {
  const known = registry.getSingleMetric(metricName);
  const counter =
    known instanceof Counter
      ? (known as Counter<"direction" | "type">)
      : new Counter({
          name: metricName,
          help: "Federation frames by direction (in, out) and frame type.",
          labelNames: ["direction", "type"],
          registers: [registry],
        });
  return {
    sent: (type) => counter.inc({ direction: "out", type }),
    received: (type) => counter.inc({ direction: "in", type }),
  };
}
