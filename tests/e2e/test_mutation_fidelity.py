"""What the replay shows is what the page showed, however its DOM got there. The snippet holds rrweb's mutation
buffers frozen for up to a second (js-snippet/src/coalesce.js) and, while frozen, keeps the page's MutationRecords
to work through when the hold ends, leaving out nodes that came and went (js-snippet/rrweb-hot-paths.mjs). Here
a page changes its DOM in the ways that could trip that up, several tasks apart within one hold: nodes added then
taken out, text and attributes set back and forth, a child removed before its list is wrapped in new markup,
nodes moved twice, a subtree built off the page then attached and changed, a shadow root, and a table rewritten
across several holds. At each checkpoint the page's DOM is compared with the replay's at that moment."""
from __future__ import annotations

from tests.e2e.conftest import poll
from tests.e2e.test_busy_page import record_script

# The DOM under a node as nested lists: tag, attributes (style as the browser normalises it), children; text as
# "#text"; a shadow root's children after the host's own. The same function reads the page and the replay.
SHAPE = """(root) => {
  const shape = (n) => {
    if (n.nodeType === 3) return '#' + n.data;
    if (n.nodeType !== 1) return '?' + n.nodeType;
    const attrs = Array.from(n.attributes, (a) => a.name === 'style' ? 'style=' + n.style.cssText : a.name + '=' + a.value);
    const kids = Array.from(n.childNodes, shape);
    if (n.shadowRoot) kids.push(['#shadow', Array.from(n.shadowRoot.childNodes, shape)]);
    return [n.tagName.toLowerCase(), attrs.sort().join(' '), kids];
  };
  return shape(root);
}"""

# Each phase is several tasks; a checkpoint (Replay.track) ends the hold, then the page's DOM is kept.
PAGE_SCRIPT = """async () => {
  const tick = (ms = 0) => new Promise((ok) => setTimeout(ok, ms));
  const shape = %s;
  const stage = document.createElement('div');
  stage.id = 'stage';
  document.body.appendChild(stage);
  const shapes = [];
  const checkpoint = async (n) => {
    await tick();  // the MutationObserver has delivered this task's records
    shapes.push(shape(stage));
    window.Replay.track('checkpoint', {n});
    await tick(30);
  };
  await checkpoint(0);

  // 1: added then taken out; text and attributes set and set back.
  stage.innerHTML = '<ul id="l"><li>a</li><li>b</li><li>c</li></ul><p id="p">x</p>';
  await tick();
  const gone = document.createElement('div');
  gone.innerHTML = '<b>tmp</b>';
  stage.append(gone);
  await tick();
  gone.remove();
  const p = stage.querySelector('#p');
  p.textContent = 'y';
  await tick();
  p.textContent = 'z';
  p.setAttribute('data-x', '1');
  await tick();
  p.textContent = 'x';
  p.setAttribute('data-x', '2');
  await tick();
  p.removeAttribute('data-x');
  p.className = 'k';
  await tick();
  p.firstChild.data = 'x2';
  await checkpoint(1);

  // 2: a child removed, then its list wrapped in a new element; moves; a subtree built off the page.
  const ul = stage.querySelector('#l');
  ul.children[1].remove();
  await tick();
  const wrap = document.createElement('div');
  wrap.id = 'w';
  stage.insertBefore(wrap, ul);
  wrap.append(ul);
  await tick();
  const a = ul.children[0];
  ul.append(a);
  await tick();
  p.append(a);
  const box = document.createElement('section');
  box.innerHTML = '<b>1</b><i>2</i>';
  await tick();
  box.querySelector('b').textContent = 'one';
  stage.append(box);
  await tick();
  box.querySelector('i').remove();
  wrap.remove();
  await tick();
  stage.prepend(wrap);
  ul.insertAdjacentHTML('beforeend', '<li>d</li>');
  p.style.color = 'red';
  await tick();
  p.style.color = '';
  p.style.margin = '1px';
  await checkpoint(2);

  // 3: a shadow root, changed inside.
  const host = document.createElement('div');
  host.attachShadow({mode: 'open'}).innerHTML = '<span>s1</span>';
  stage.append(host);
  await tick();
  host.shadowRoot.firstChild.textContent = 's2';
  await tick();
  host.shadowRoot.append(document.createElement('em'));
  await checkpoint(3);

  // 4: a table rewritten for 1.5 s, so across holds: cells, rows replaced, rows moved.
  const t = document.createElement('table');
  t.innerHTML = Array.from({length: 30}, (_, r) => '<tr>' + '<td>0</td>'.repeat(4) + '</tr>').join('');
  stage.append(t);
  const until = performance.now() + 1500;
  for (let k = 1; performance.now() < until; k++) {
    const cells = t.querySelectorAll('td');
    for (let i = 0; i < 40; i++) cells[(i * 7 + k) %% cells.length].textContent = k + '.' + i;
    t.rows[k %% 30].outerHTML = '<tr class="n' + k + '"><td>r' + k + '</td></tr>';
    t.tBodies[0].append(t.rows[(k * 3) %% 30]);
    await tick(k %% 3 ? 0 : 40);
  }
  await checkpoint(4);
  return shapes;
}""" % SHAPE

# The replay paused just after each checkpoint: the replayer applies every event up to the time it pauses at.
REPLAY_AT = """async ([events, times]) => {
  const player = new rrwebPlayer({target: document.body, props: {events, autoPlay: false}});
  const replayer = player.getReplayer();
  const shape = %s;
  const out = [];
  for (const t of times) {
    replayer.pause(t - events[0].timestamp + 1);
    await new Promise((ok) => setTimeout(ok, 200));
    const stage = replayer.iframe.contentDocument.querySelector('#stage');
    out.push(stage ? shape(stage) : null);
  }
  return out;
}""" % SHAPE


def test_the_replay_shows_the_pages_dom_at_every_checkpoint(browser, site, replay_server, api):
    session_id, shapes = record_script(browser, site["url"], PAGE_SCRIPT)

    def checkpoints():
        answer = api(f"/api/sessions/{session_id}/events")
        events = answer.json() if answer.status_code == 200 else []
        marks = [e for e in events if e.get("type") == 5 and e["data"].get("tag") == "replay.track"]
        return (events, marks) if len(marks) == len(shapes) else None

    events, marks = poll(checkpoints, timeout_s=60)
    viewer = browser.new_context().new_page()
    viewer.set_content(f"<body><script src='{replay_server}/static/rrweb-player.js'></script></body>")
    viewer.wait_for_function("!!window.rrwebPlayer")
    replayed = viewer.evaluate(REPLAY_AT, [sorted(events, key=lambda e: e["timestamp"]),
                                           [m["timestamp"] for m in marks]])
    viewer.context.close()
    for n, (seen, shown) in enumerate(zip(shapes, replayed)):
        assert shown == seen, f"checkpoint {n}: the replay differs from the page"


# A sign-up form with inputs unmasked (maskAllInputs: false) whose password field the page shows as text, then
# fills with a generated password, both while rrweb's buffers are held (no click or focus in between).
PASSWORD_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="{snippet}"></script>
<script>Replay.init({{projectKey: "{key}", maskAllInputs: false}});</script></head>
<body><form><input id="name"><input id="pw" type="password"><button type="button" id="show">show</button></form>
</body></html>"""


def test_a_password_field_shown_as_text_during_a_hold_keeps_its_value_masked(browser, site, replay_server, api):
    context = browser.new_context()
    page = context.new_page()
    (site["root"] / "signup.html").write_text(PASSWORD_PAGE.format(snippet=f"{replay_server}/snippet.js",
                                                                   key=site["key"]))
    page.goto(site["url"] + "signup.html")
    page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.fill("#name", "ada")  # not masked: the page chose so
    page.focus("#show")  # the name's change event: rrweb records its value then
    # A DOM change, so that a mutation event goes out and the next ones are held.
    page.evaluate("document.body.append(document.createElement('hr'))")
    page.wait_for_timeout(300)
    page.evaluate("document.querySelector('#pw').type = 'text'")  # "show password", in the hold
    page.evaluate("() => new Promise((ok) => setTimeout(ok, 0))")
    # A generated password, set by the page in a later task (no focus or click in between to end the hold).
    page.evaluate("document.querySelector('#pw').value = 'hunter2-secret'")
    page.evaluate("window.Replay.track('typed', {})")
    page.wait_for_timeout(3000)
    context.close()

    def stored():
        answer = api(f"/api/sessions/{session_id}/events")
        events = answer.json() if answer.status_code == 200 else []
        return events if any(e.get("type") == 5 and e["data"].get("tag") == "replay.track" for e in events) else None

    text = str(poll(stored, timeout_s=60))
    assert "ada" in text  # inputs were recorded unmasked
    assert "hunter2" not in text
