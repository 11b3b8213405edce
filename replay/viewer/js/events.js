// What the viewer asks of rrweb events. Their type numbers come from @rrweb/types, never copied here.
import { EventType } from "@rrweb/types";

// A recording can be replayed once it holds a full snapshot of the page.
export function hasFullSnapshot(events) {
  return events.some((e) => e.type === EventType.FullSnapshot);
}

// The first meta event's data (href, width, height), or null.
export function firstMeta(events) {
  const meta = events.find((e) => e.type === EventType.Meta && e.data);
  return meta ? meta.data : null;
}
