// The Events panel: what the page reported with Replay.track(name, props), from /tracked, each on
// the timeline too. Recorded text only ever goes in as text.
import { clock } from "./clock.js";
import { make } from "./dom.js";
import { getJSON } from "./http.js";

function propsText(props) {
  if (typeof props === "string") return props + "…"; // cut by the server: too long to list whole
  return props && Object.keys(props).length ? JSON.stringify(props) : "";
}

function row(entry) {
  const li = make("li", "row tracked-event");
  li.dataset.offset = entry.offset_ms;
  const button = make("button", "seek");
  button.type = "button";
  button.appendChild(make("span", "time", clock(entry.offset_ms)));
  button.appendChild(make("span", "name", entry.name));
  const props = propsText(entry.props);
  if (props) button.appendChild(make("span", "props", props));
  li.appendChild(button);
  return li;
}

// api: the session's API base; rows: startRows's; timeline: startTimeline's (or null).
export function startTracked(api, rows, timeline) {
  const ol = document.querySelector("ol.tracked");
  if (!ol) return;
  const count = document.querySelector("[data-panel=events] .count");
  getJSON(api + "/tracked").then((body) => {
    ol.textContent = "";
    body.events.forEach((entry) => { ol.appendChild(row(entry)); });
    if (!body.events.length) ol.appendChild(make("li", "none", "The page sent no events (Replay.track)."));
    if (count) count.textContent = body.events.length;
    if (timeline) {
      timeline.mark("tracked", body.events.map((e) => {
        const props = propsText(e.props);
        return { offset: e.offset_ms, label: "Event: " + e.name + (props ? " " + props.slice(0, 200) : "") };
      }));
    }
    rows.changed(ol);
  }).catch((err) => {
    ol.textContent = "";
    ol.appendChild(make("li", "error", "The events could not be loaded: " + err.message));
  });
}
