// Taiyaku's review grid: a Streamlit custom component (components v2).
//
// The browser holds the pairs and answers every key at once: an operation
// changes what is shown first (optimistically), then goes to Python, which
// applies it through align.edits / align.store and acknowledges it. Python's
// state is the truth: once every operation sent is acknowledged the grid
// shows exactly what Python sent; a refused one brings the server's state
// back with the reason.
//
// Operations are numbered per browser tab and kept until acknowledged, with
// the text of an open editor, in localStorage (by project and tab), so a tab
// closed before they were saved leaves them to the next tab of the project;
// every message carries all of them, since Streamlit keeps only the last
// trigger value of a burst and a server restart forgets the rest. Python
// records each tab's last number with the edit, so a resent operation is not
// applied twice: a tab that takes over a closed tab's queue sends it under
// that tab's id and numbers (a Web Lock per id says which tabs are alive).
//
// The contract other programs rely on (ARIA grid): role="grid"; a row per
// pair, role="row", data-pair = its 0-based position in the list as shown,
// data-status; the current row aria-selected="true"; cells data-side="ja"/"en".

const G = (window.__taiyakuGrid = window.__taiyakuGrid || { instances: {}, keyLog: [], ackLog: [] });

const SIDES = ["ja", "en"];
const LANG = { ja: "Japanese", en: "English" };
const OVERSCAN = 600; // px of rows rendered above and below the viewport
const SOURCE_BLOCK = 40; // paragraphs of the source pane laid out (or skipped off screen) together
const STALL_MS = 10000; // an operation unanswered this long, with no answer meanwhile: the server is away
const NO_FILTER = Object.freeze({ status: "all", kind: "all", review: false, query: "" }); // every pair shown

// ---------------------------------------------------------------- helpers
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function scoreText(s) {
  return (Math.floor(s * 100 + 1e-9) / 100).toFixed(2);
}

/** A key that belongs to an input method's conversion (Japanese typing), not to us. */
const composing = (e) => e.isComposing || e.keyCode === 229;

class Refused extends Error {}
const refuse = (msg) => { throw new Refused(msg); };

function storage() { // this tab's: its id, its numbers, where it is
  try { return window.sessionStorage; } catch (e) { return null; }
}

function lasting() { // every tab's, kept after a tab closes: the unsent operations
  try { return window.localStorage; } catch (e) { return null; }
}

// what an operation is called where the grid names it (Undone: …), as the key list calls it
const OP_NAMES = {
  merge_next: "merge with the next pair", merge_prev: "merge with the previous pair", split_pair: "split the pair",
  split_segment: "cut a sentence", join_segments: "join sentences", shift: "move a sentence",
  insert_empty: "without counterpart (1-0 / 0-1)", delete_pair: "unlink the pair", link: "link",
  detach: "unlink a sentence", edit_text: "text edit", confirm: "confirm", unconfirm: "unconfirm",
  // confirm_many: Shift+A's pairs up to here, or the confirmations carried over from an earlier review
  confirm_through: "confirm up to here", confirm_many: "confirm several pairs", relink: "link a candidate",
};

/** ": link (pair 5)", as the undo and redo messages name a step. */
const stepName = (op, k) => `: ${OP_NAMES[op] || op.replace(/_/g, " ")} (pair ${k + 1})`;

/** A pair side's segments ([text, start, end, …]) as one text: model.joined's rule, nothing
 *  between two the source has nothing between (a sentence cut inside a word). */
const joined = (segs, space) => segs.map((s, k) => (k && segs[k - 1][2] != null && segs[k - 1][2] === s[1]
  ? "" : k ? space : "") + s[0]).join("");

const CLIENT = /^[A-Za-z0-9_-]{1,64}$/; // as align/grid.py accepts
const lockName = (client) => `taiyaku.tab.${client}`;

/** Hold the Web Lock of a tab id while this page lives; resolves to a release
 *  function, or null when another live page holds it. */
function holdLock(client) {
  return new Promise((resolve) => {
    navigator.locks.request(lockName(client), { ifAvailable: true }, (lock) => {
      if (!lock) { resolve(null); return undefined; }
      return new Promise((release) => resolve(release));
    });
  });
}

function clientId(fresh) {
  const ss = storage();
  let id = !fresh && ss && ss.getItem("taiyaku.client");
  if (!id) {
    id = "t" + Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
    if (ss) ss.setItem("taiyaku.client", id);
  }
  return id;
}

// ------------------------------------------------- the optimistic edits
// Each mirrors the op of the same name in align/edits.py closely enough to
// show its effect at once; Python's result replaces it at the acknowledgement.

const sortNum = (a) => a.slice().sort((x, y) => x - y);

function reasonsOf(p, green) { // mirror of review.reasons, for the instant view
  if (p.status === "confirmed") return [];
  const out = p.status === "edited" ? ["edited"] : p.score < green ? ["low"] : [];
  if (!p.ja.length || !p.en.length) out.push("orphan");
  else if (p.ja.length > 1 || p.en.length > 1) out.push("m-n");
  return out;
}

const sameIds = (a, b) => a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]));

function samePair(p, q) {
  return p === q || (sameIds(p.ja, q.ja) && sameIds(p.en, q.en) && p.score === q.score && p.status === q.status
    && p.edited === q.edited && !!p.rescored === !!q.rescored && sameIds(p.reasons, q.reasons)
    && JSON.stringify(p.cands) === JSON.stringify(q.cands));
}

/** The same segments and pairs (the optimistic state as Python acknowledged it). */
function sameState(a, b) {
  return a.mode === b.mode && a.ja === b.ja && a.en === b.en && a.pairs.length === b.pairs.length
    && a.pairs.every((p, k) => samePair(p, b.pairs[k]));
}

/** Where the pair ``p`` (the cursor's) is in ``pairs``: the pair holding its first
 *  segment, so that the cursor stays on what it was on when the rows move. */
function whereIs(p, pairs, fallback, mode) {
  if (!p) return fallback;
  // a headline is its pair's own (several may link one sentence)
  const [side, id] = mode !== "headlines" && p.ja.length ? ["ja", p.ja[0]] : ["en", p.en[0]];
  const k = pairs.findIndex((q) => q[side].includes(id));
  return k < 0 ? fallback : k;
}

function ordered(pairs) {
  const groups = [];
  for (const p of pairs) {
    if (p.ja.length || !groups.length) groups.push([p.ja.length ? p.ja[0] : -1, [p]]);
    else groups[groups.length - 1][1].push(p);
  }
  groups.sort((a, b) => a[0] - b[0]);
  return groups.flatMap((g) => g[1]);
}

function makeOps(green) {
  const edited = (p, ch) => {
    const q = Object.assign({}, p, ch, { status: "edited", edited: true });
    delete q.cands;
    delete q.rescored; // the old score until Python's rescored one comes with the ack
    q.reasons = reasonsOf(q, green);
    return q;
  };
  const withStatus = (p, status) => {
    const q = Object.assign({}, p, { status });
    q.reasons = reasonsOf(q, green);
    return q;
  };
  const unlocked = (p, which) => { if (p.status === "confirmed") refuse(`${which || "this pair"} is confirmed; unconfirm it first`); };
  const doc = (s, what) => {
    if (s.mode !== "document") refuse(`${what} works on full texts only. Here each headline is its own pair: `
      + "press 1–5 to link it to a candidate sentence, or Ctrl+click sentences in the article and press L.");
  };
  const pair = (s, k) => { if (!(k >= 0 && k < s.pairs.length)) refuse(`no pair ${k}`); return s.pairs[k]; };
  const put = (s, k, n, items) => {
    let pairs = s.pairs.slice(0, k).concat(items, s.pairs.slice(k + n));
    if (s.mode === "document") pairs = ordered(pairs);
    return Object.assign({}, s, { pairs });
  };
  const renumberSide = (s, side, fn) => s.pairs.map((p) => {
    const q = Object.assign({}, p, { [side]: [...new Set(p[side].flatMap(fn))] });
    if (side === "ja" && p.cands) q.cands = p.cands.map(([ids, sc]) => [[...new Set(ids.flatMap(fn))], sc]);
    return q;
  });
  const touching = (s, side, seg) => { // a text edit unconfirms them (edits.edit_text: typing is never refused)
    const ks = [];
    s.pairs.forEach((p, k) => { if (p[side].includes(seg)) ks.push(k); });
    return ks;
  };

  const ops = {
    confirm(s, k) {
      const p = pair(s, k);
      if (p.status === "confirmed") refuse("this pair is already confirmed");
      return put(s, k, 1, [withStatus(p, "confirmed")]);
    },
    unconfirm(s, k) {
      const p = pair(s, k);
      if (p.status !== "confirmed") refuse("this pair is not confirmed");
      return put(s, k, 1, [withStatus(p, p.edited ? "edited" : "auto")]);
    },
    confirm_many(s, ks) {
      const todo = ks.filter((k) => pair(s, k).status !== "confirmed");
      if (!todo.length) refuse("every one of these pairs is already confirmed");
      const pairs = s.pairs.slice();
      for (const k of todo) pairs[k] = withStatus(pairs[k], "confirmed");
      return Object.assign({}, s, { pairs });
    },
    merge_next(s, k) {
      doc(s, "Merging pairs (M)");
      pair(s, k);
      if (k === s.pairs.length - 1) refuse("the last pair has no next pair to merge with");
      return merge(s, k);
    },
    merge_prev(s, k) {
      doc(s, "Merging pairs (M)");
      pair(s, k);
      if (k === 0) refuse("the first pair has no previous pair to merge with");
      return merge(s, k - 1);
    },
    split_pair(s, k) {
      doc(s, "Splitting a pair (S)");
      const p = pair(s, k);
      unlocked(p);
      const a = Math.ceil(p.ja.length / 2), b = Math.ceil(p.en.length / 2);
      const first = edited(p, { ja: p.ja.slice(0, a), en: p.en.slice(0, b) });
      const second = edited(p, { ja: p.ja.slice(a), en: p.en.slice(b) });
      if (!(first.ja.length || first.en.length) || !(second.ja.length || second.en.length))
        refuse("a split must leave at least one segment in each part");
      return put(s, k, 1, [first, second]);
    },
    shift(s, k, side, dir) {
      doc(s, "Moving a segment to the next pair");
      const p = pair(s, k);
      const ids = p[side];
      if (!ids.length) refuse(`this pair has no ${LANG[side]} segment to shift`);
      const j = dir === "up" ? k - 1 : k + 1;
      if (j < 0) refuse("the first pair has no pair above it");
      if (j >= s.pairs.length) refuse("the last pair has no pair below it");
      unlocked(p);
      unlocked(s.pairs[j], "the pair it would move into");
      const moved = dir === "up" ? ids[0] : ids[ids.length - 1];
      const source = edited(p, { [side]: ids.filter((i) => i !== moved) });
      const target = edited(s.pairs[j], { [side]: sortNum(s.pairs[j][side].concat([moved])) });
      const both = (j < k ? [target, source] : [source, target]).filter((q) => q.ja.length || q.en.length);
      return put(s, Math.min(j, k), 2, both);
    },
    insert_empty(s, k, side) {
      doc(s, "Marking a sentence as having no translation (I)");
      const p = pair(s, k);
      unlocked(p);
      if (!p.ja.length || !p.en.length) refuse("this pair already has an empty side");
      const other = side === "ja" ? "en" : "ja";
      return put(s, k, 1, [edited(p, { [other]: [] }), edited(p, { [side]: [] })]);
    },
    delete_pair(s, k) {
      doc(s, "Unlinking a pair (Delete)");
      const p = pair(s, k);
      unlocked(p);
      if (p.ja.length + p.en.length === 1) refuse("this pair holds a single segment; it is already unlinked");
      const singles = p.ja.map((i) => edited(p, { ja: [i], en: [] })).concat(p.en.map((i) => edited(p, { ja: [], en: [i] })));
      return put(s, k, 1, singles);
    },
    detach(s, side, seg) {
      doc(s, "Unlinking one segment");
      const k = s.pairs.findIndex((p) => p[side].includes(seg));
      if (k < 0) refuse("no such segment");
      const p = s.pairs[k];
      unlocked(p);
      if (p.ja.length + p.en.length === 1) refuse("this segment is alone in its pair already");
      const other = side === "ja" ? "en" : "ja";
      return put(s, k, 1, [edited(p, { [side]: p[side].filter((i) => i !== seg) }), edited(p, { [side]: [seg], [other]: [] })]);
    },
    link(s, ja, en) {
      if (s.mode === "headlines") {
        if (en.length !== 1) refuse("pick one headline to link the sentences to");
        return ops.relink(s, s.pairs.findIndex((p) => p.en.includes(en[0])), ja);
      }
      if (!ja.length && !en.length) refuse("pick the segments to link first");
      const cj = new Set(ja), ce = new Set(en);
      const touched = [];
      s.pairs.forEach((p, k) => { if (p.ja.some((i) => cj.has(i)) || p.en.some((i) => ce.has(i))) touched.push(k); });
      touched.forEach((k) => unlocked(s.pairs[k], "a pair holding these segments"));
      const score = Math.min(...touched.map((k) => s.pairs[k].score));
      const fresh = edited({ ja: sortNum(ja), en: sortNum(en), score }, {});
      const pairs = [];
      s.pairs.forEach((p, k) => {
        if (k === touched[0]) pairs.push(fresh);
        if (touched.includes(k)) {
          const rest = { ja: p.ja.filter((i) => !cj.has(i)), en: p.en.filter((i) => !ce.has(i)) };
          if (rest.ja.length || rest.en.length) pairs.push(edited(p, rest));
        } else pairs.push(p);
      });
      return Object.assign({}, s, { pairs: ordered(pairs) });
    },
    relink(s, k, ids) {
      if (s.mode !== "headlines") refuse("relinking is for headlines; in a full text merge, split or shift");
      const p = pair(s, k);
      unlocked(p);
      for (const i of ids) if (!(Number.isInteger(i) && i >= 0 && i < s.ja.length)) refuse(`no Japanese sentence ${i}`);
      const sorted = sortNum([...new Set(ids)]);
      if (sorted.length !== ids.length) refuse("a sentence is listed twice");
      if (sorted.join() === sortNum(p.ja).join()) refuse("the headline already links exactly these sentences");
      // as edits.relink: the best candidate it now links gives its score (rescored when exactly that)
      const linked = (p.cands || []).filter(([ja]) => ja.length && ja.every((i) => sorted.includes(i)));
      const q = edited(p, { ja: sorted, score: Math.max(0, ...linked.map(([, score]) => score)) });
      if (linked.some(([ja]) => ja.length === sorted.length)) q.rescored = true;
      q.cands = p.cands;
      return put(s, k, 1, [q]);
    },
    edit_text(s, side, seg, text) {
      text = String(text).trim();
      if (!text) refuse("a segment cannot be empty; to drop it, unlink it from its pair");
      if (!s[side][seg]) refuse("no such segment");
      if (text === s[side][seg][0]) refuse("the text is unchanged");
      const ks = touching(s, side, seg);
      const segs = s[side].slice();
      segs[seg] = [text, null, null, []];
      const pairs = s.pairs.map((p, k) => (ks.includes(k) ? edited(p, {}) : p));
      return Object.assign({}, s, { [side]: segs, pairs });
    },
    split_segment(s, side, seg, at) {
      const t = s[side][seg] && s[side][seg][0];
      if (!t) refuse("no such segment");
      if (!(at > 0 && at < t.length)) refuse("split inside the text, not at its start or end");
      const head = t.slice(0, at).trimEnd(), tail = t.slice(at).trimStart();
      if (!head || !tail) refuse("both parts of a split must contain text");
      const ks = touching(s, side, seg);
      const segs = s[side].slice(0, seg).concat([[head, null, null, []], [tail, null, null, []]], s[side].slice(seg + 1));
      const pairs = renumberSide(s, side, (i) => (i === seg ? [i, i + 1] : [i + (i > seg ? 1 : 0)]))
        .map((p, k) => (ks.includes(k) ? edited(p, {}) : p));
      return Object.assign({}, s, { [side]: segs, pairs });
    },
    join_segments(s, side, ids) {
      ids = sortNum(ids);
      if (ids.length < 2) refuse("pick at least two segments to join");
      const first = ids[0], last = ids[ids.length - 1], n = ids.length - 1;
      if (last - first !== n) refuse("only neighbouring segments can be joined");
      const holders = ids.map((i) => s.pairs.map((p, k) => (p[side].includes(i) ? k : -1)).filter((k) => k >= 0).join());
      if (new Set(holders).size !== 1) refuse("these segments are in different pairs; link them into one pair first");
      const ks = holders[0].split(",").map(Number);
      ks.forEach((k) => unlocked(s.pairs[k], "the pair holding these segments"));
      const text = ids.map((i) => s[side][i][0]).join(side === "ja" ? "" : " ");
      const segs = s[side].slice(0, first).concat([[text, null, null, []]], s[side].slice(last + 1));
      const pairs = renumberSide(s, side, (i) => [i >= first && i <= last ? first : i - (i > last ? n : 0)])
        .map((p, k) => (ks.includes(k) ? edited(p, {}) : p));
      return Object.assign({}, s, { [side]: segs, pairs });
    },
  };

  function merge(s, k) {
    const a = s.pairs[k], b = s.pairs[k + 1];
    if (a.status === "confirmed" || b.status === "confirmed") {
      refuse(`pair ${a.status === "confirmed" ? k + 1 : k + 2} is confirmed and cannot be merged; unconfirm it first`);
    }
    return put(s, k, 2, [edited(a, { ja: sortNum(a.ja.concat(b.ja)), en: sortNum(a.en.concat(b.en)), score: Math.min(a.score, b.score) })]);
  }
  return ops;
}

// ------------------------------------------------------------ the grid
class Grid {
  constructor(root, args) {
    G.built = (G.built || 0) + 1; // grids made in this page (a test reads it)
    this.root = root;
    this.project = args.data.project;
    this.client = clientId();
    this.seq = Number((storage() && storage().getItem("taiyaku.seq")) || 0);
    const unsent = this.loadUnsent(this.client);
    this.pending = unsent.ops;
    this.since = unsent.since; // the saved version the first queued operation was made on
    this.draftToRestore = unsent.draft; // an editor's text from before a reload
    this.draft = null;        // the open editor's changed text, kept with the queue
    this.own = null;          // {client, seq}: this tab's own, while it sends a closed tab's queue
    this.lastFailed = {};
    // The undo stacks outlive this grid within the page (it is drawn again after Export or
    // Map, or another project): kept with the saved version they lead to, they are this
    // window's own again only if nothing was written since (memo.version).
    this.memo = ((G.memo = G.memo || {})[this.project] = G.memo[this.project] || { undo: [], redo: [] });
    this.lost = this.loadLost(); // text another window's change kept from its sentence, this project's only
    this.cur = 0;             // index into this.state.pairs
    this.filter = { ...NO_FILTER };
    this.sel = { ja: new Set(), en: new Set() };
    this.editing = null;      // {k} while the current pair's text is edited
    this.heights = new Map(); // measured row heights by pair signature
    this.sentAt = new Map();
    this.notice = "";
    this.lastAckSeen = null;
    this.resends = 0;
    this.build();
  }

  get undoStack() { return this.memo.undo; }
  set undoStack(v) { this.memo.undo = v; }
  get redoStack() { return this.memo.redo; }
  set redoStack(v) { this.memo.redo = v; }

  // -- state from Python ------------------------------------------------
  update(args) {
    this.args = args;
    const d = args.data;
    this.ops = this.ops || makeOps(d.green);
    if (!this.legend.childNodes.length) this.renderLegend(d.green, d.amber);
    this.reasonNames = d.reasons;
    // Segments come only when they changed, the pairs as the rows that changed
    // (pairs_change); the grid keeps both by fingerprint.
    const segs = (G.segs = G.segs || new Map());
    for (const side of SIDES) {
      if (d[side]) segs.set(d[`${side}_rev`], d[side]);
      if (segs.size > 8) segs.delete(segs.keys().next().value);
    }
    const kept = (G.pairs = G.pairs || new Map());
    const change = d.pairs_change, base = change && kept.get(change.base);
    if (d.pairs) kept.set(d.pairs_rev, d.pairs);
    else if (base) kept.set(d.pairs_rev, base.slice(0, change.at).concat(change.rows, base.slice(change.at + change.drop)));
    if (kept.size > 4) kept.delete(kept.keys().next().value);
    const ja = segs.get(d.ja_rev), en = segs.get(d.en_rev), pairs = kept.get(d.pairs_rev);
    if (!ja || !en || !pairs) { // not kept (evicted): ask for them
      this.have = {};
      this.flush();
      return;
    }
    this.have = { ja: d.ja_rev, en: d.en_rev, pairs: d.pairs_rev };
    const server = { ja, en, pairs, mode: d.mode };
    const first = !this.server;
    this.server = server;
    this.canUndo = d.can_undo;
    this.canRedo = d.can_redo;
    if (first) {
      const v = this.localView() || d.view || {};
      if (v.filter && typeof v.filter === "object") Object.assign(this.filter, v.filter);
      this.cur = Math.min(Math.max(Number(v.pair) || 0, 0), Math.max(pairs.length - 1, 0));
      this.syncControls();
      this.fitHeight();
      if (d.hold) { this.holding = d.hold; this.say(d.hold, "warn"); }
      // The grid takes the keys when it opens (after a project is picked in the sidebar too).
      requestAnimationFrame(() => { this.fitHeight(); this.refresh(true); this.scroller.focus({ preventScroll: true }); });
    }
    const ack = d.ack;
    let heard = null; // an acknowledgement not seen before
    if (ack && ack.client === this.client && ack !== this.lastAckSeen) {
      this.lastAckSeen = heard = ack;
      this.acks = (this.acks || 0) + 1;
      const now = performance.now();
      for (const o of this.pending) if (o.seq <= ack.seq && this.sentAt.has(o.seq)) {
        G.ackLog.push({ seq: o.seq, op: o.op, ms: now - this.sentAt.get(o.seq) });
        this.sentAt.delete(o.seq);
      }
      // A refusal is handled once, while its keys are still queued here (the same ack
      // comes with every later render, and to a grid mounted again): the operations
      // queued until then were made on a state the server never had.
      const refused = ack.error && this.pending.some((o) => o.seq >= ack.failed && o.seq <= ack.seq);
      const dropped = refused ? this.pending.filter((o) => o.seq >= ack.failed) : [];
      const before = this.pending.length;
      this.pending = this.pending.filter((o) => o.seq > ack.seq);
      // The rest were made on the state this acknowledgement brings, unless it took another
      // window's change meanwhile (the session's epoch moved; for a restored queue, a version
      // that is not its own operations' doing): then they keep theirs.
      if (this.base === null ? d.version === this.since + before - this.pending.length : d.epoch === this.base) {
        this.since = d.version;
      }
      if (refused && ack.failed > (this.lastFailed[ack.client] || 0)) {
        this.lastFailed[ack.client] = ack.failed;
        this.pending = [];
        this.say(`Not applied: ${ack.error}`, "error");
        this.undoStack = [];
        this.redoStack = [];
        // Typed text is never thrown away: each dropped text edit goes again to the
        // sentence that still reads as it did when the typing began (found by its text).
        const typed = dropped.filter((o) => o.op === "edit_text" && o.args.length > 3);
        if (typed.length) this.retyped = typed;
      }
      this.savePending();
      if (!this.pending.length && this.own) this.endAdoption();
    }
    if (d.notice) this.say(d.notice, "warn");
    if (!this.pending.length) {
      // Every operation is acknowledged: show exactly the server's state (left
      // as drawn when it is what the keys already showed: nothing to redraw).
      if (!this.state || !sameState(this.state, server)) {
        // (another window's change, or a refusal, may have moved the rows)
        if (this.state) this.cur = whereIs(this.state.pairs[this.cur], server.pairs, this.cur, server.mode);
        this.state = server;
      }
      const fresh = this.base === undefined || this.base === null; // just mounted, or a restored queue saved
      if (fresh ? d.version !== this.memo.version : d.epoch !== this.base) { // another window's change
        this.undoStack = [];
        this.redoStack = [];
      }
      this.base = d.epoch; // the next keys are made on this state (grid.apply_ops's base)
      this.since = this.memo.version = d.version;
      this.resends = 0;
    } else if (!this.state) {
      // A queue kept across a reload was made in a session that is gone: its epoch means
      // nothing here, the saved version it was made on (since) says whether it still fits.
      this.base = this.since === null ? d.epoch : null;
      this.state = server; // reload with unacknowledged operations: replay them
      for (const o of this.pending) {
        try { this.state = this.run(this.state, o); } catch (e) { /* the server decides */ }
      }
    }
    if (this.pending.length && this.resends < 5) { // a lost or overtaken message: send again
      this.resends += 1;
      this.flush();
    }
    if (heard) this.foreignStep(heard);
    this.cur = Math.min(this.cur, Math.max(this.state.pairs.length - 1, 0));
    const goto = d.goto; // a pair the page asks for (picked on the map): once, whatever the tab showed
    if (goto && goto.project === this.project && Number.isInteger(goto.pair) && goto.n !== G.gotoSeen
        && goto.pair < this.state.pairs.length) {
      G.gotoSeen = goto.n;
      this.showAll();
      if (first) this.cur = goto.pair; else this.go(goto.pair, true);
      this.rememberView();
    }
    if (this.retyped && !this.pending.length) this.retype();
    this.watchSaving();
    if (first) {
      this.claim();
      if (this.draftToRestore) { this.restoreDraft(this.draftToRestore); this.draftToRestore = null; }
      this.adoptOrphans();
    }
    this.refresh();
  }

  // -- unsent work: kept in localStorage, taken over from closed tabs ---------
  unsentKey(client) { return `taiyaku.unsent.${this.project}.${client}`; }

  loadUnsent(client) {
    let v = null;
    try { v = JSON.parse(lasting().getItem(this.unsentKey(client)) || "null"); } catch (e) { v = null; }
    const ops = v && Array.isArray(v.ops) ? v.ops : [];
    return { ops, draft: v && v.draft, since: v && Number.isInteger(v.since) ? v.since : null,
             seq: Math.max(Number(v && v.seq) || 0, ...ops.map((o) => o.seq)) };
  }

  savePending() {
    const ls = lasting();
    try {
      if (ls && (this.pending.length || this.draft)) {
        ls.setItem(this.unsentKey(this.client), JSON.stringify({ ops: this.pending, draft: this.draft, seq: this.seq, since: this.since }));
      } else if (ls) ls.removeItem(this.unsentKey(this.client));
    } catch (e) { /* full or blocked: the queue is still in memory and sent */ }
    const ss = storage();
    if (ss && !this.own) ss.setItem("taiyaku.seq", String(this.seq));
  }

  /** Work is not saved yet: operations not acknowledged, or text typed in an open editor. */
  unsaved() { return this.pending.length > 0 || !!this.draft; }

  /** This page holds its tab id. A duplicated tab (its sessionStorage copied) finds the
   *  original holding it: it takes a new id and leaves the original its queue. */
  async claim() {
    const held = (G.held = G.held || new Map()), me = this.client;
    if (!navigator.locks || held.has(me)) return;
    held.set(me, null);
    const release = await holdLock(me);
    if (release) { held.set(me, release); return; }
    held.delete(me);
    if (this.client !== me) return;
    this.client = clientId(true);
    this.seq = 0;
    this.pending = [];
    this.draft = null;
    storage() && storage().setItem("taiyaku.seq", "0");
    this.state = this.server;
    this.refresh();
    this.claim();
  }

  /** Take over the unsent operations (and editor text) of a closed tab of this project:
   *  sent under its id and numbers, so what the server already applied is not applied again. */
  async adoptOrphans() {
    const ls = lasting(), prefix = this.unsentKey("");
    if (!ls || !navigator.locks || this.adopting) return;
    const ids = [];
    for (let i = 0; i < ls.length; i++) {
      const key = ls.key(i);
      if (key && key.startsWith(prefix) && CLIENT.test(key.slice(prefix.length))) ids.push(key.slice(prefix.length));
    }
    const held = G.held || new Map(); // ids this page holds (its own, or taken over)
    const orphans = ids.filter((c) => c !== this.client && !held.has(c));
    if (!orphans.length) return;
    this.adopting = true;
    try {
      const live = new Set(((await navigator.locks.query()).held || []).map((l) => l.name));
      for (const c of orphans) {
        if (live.has(lockName(c))) continue;
        const release = await holdLock(c);
        if (!release) continue;
        if (this.own || this.pending.length || this.editing || !this.root.isConnected) { release(); return; } // later
        const entry = this.loadUnsent(c);
        if (!entry.ops.length && !(entry.draft && entry.draft.segs)) { ls.removeItem(this.unsentKey(c)); release(); continue; }
        (G.held = G.held || new Map()).set(c, release);
        this.own = { client: this.client, seq: this.seq };
        this.client = c;
        this.seq = entry.seq;
        this.pending = entry.ops;
        if (entry.ops.length && entry.since !== null) { this.since = entry.since; this.base = null; } // made in its session
        this.state = this.server;
        for (const o of this.pending) {
          try { this.state = this.run(this.state, o); } catch (e) { /* the server decides */ }
        }
        this.undoStack = [];
        this.redoStack = [];
        const n = this.pending.length;
        this.restoreDraft(entry.draft);
        if (n) this.say(`Saving ${n} change${n > 1 ? "s" : ""} made in a tab of this project that closed before ${n > 1 ? "they were" : "it was"} saved.`, "warn");
        this.savePending();
        if (this.pending.length) { this.resends = 0; this.flush(); } else this.endAdoption();
        this.refresh();
        return; // one at a time: the next once this one is saved
      }
    } finally {
      this.adopting = false;
    }
  }

  /** A closed tab's queue is saved: back to this tab's own id (the closed one's is never used again). */
  endAdoption() {
    const c = this.client;
    this.savePending();
    this.client = this.own.client;
    this.seq = this.own.seq;
    this.own = null;
    const release = G.held && G.held.get(c);
    if (release) { G.held.delete(c); release(); }
    this.adoptOrphans();
  }

  /** Text typed in an editor when the page closed: saved now, if its segment is still as it was. */
  restoreDraft(draft) {
    if (!draft || !Array.isArray(draft.segs)) return;
    let n = 0;
    for (const [side, seg, original, value, count] of draft.segs) {
      const at = this.findSegment(side, seg, original, count);
      if (at !== null && String(value).trim() !== String(original).trim()
        && this.retext([side, at, String(value), original])) n++;
    }
    if (n) this.say(`Kept the text you were typing in pair ${Number(draft.k) + 1} when the page closed (Z undoes it).`, "warn");
  }

  /** A text edit [side, seg, text, was]: it names the text it replaces (edits.edit_text's
   *  was) and the number of segments the side had (n), by which Python and findSegment
   *  tell a sentence that moved from one that changed. */
  retext(args) {
    return this.act("edit_text", args, undefined, { n: this.state[args[0]].length });
  }

  /** Where a sentence that read ``text`` at ``seg``, when its side had ``count`` segments, is
   *  now (null: changed). Only a cut or join elsewhere moves it, by at most the change in
   *  the count; it must be the one sentence of that text so near. */
  findSegment(side, seg, text, count) {
    const segs = SIDES.includes(side) ? this.state[side] : [];
    if (segs[seg] && segs[seg][0] === text) return seg;
    if (!Number.isInteger(count) || count === segs.length) return null; // nothing moved: it changed
    const d = Math.abs(segs.length - count), at = [];
    for (let i = Math.max(0, seg - d); i <= Math.min(segs.length - 1, seg + d); i++) if (segs[i][0] === text) at.push(i);
    return at.length === 1 ? at[0] : null;
  }

  /** Text edits dropped with a refused operation, made again on the saved state; what
   *  cannot be (its sentence changed meanwhile) is shown, so it can be copied. */
  retype() {
    const lost = [];
    const typed = this.retyped;
    this.retyped = null;
    for (const o of typed) {
      const [side, seg, text, original] = o.args;
      const at = this.findSegment(side, seg, original, o.n);
      if (at === null || !this.retext([side, at, text, original])) {
        lost.push({ where: `${side === "ja" ? "Japanese" : "English"} sentence ${(at === null ? seg : at) + 1}`,
          text: String(text).trim() });
      }
    }
    const said = this.msg.textContent.trim(); // the refusal, said as a sentence before what follows
    const kept = said && !/[.!?:…」)]$/.test(said) ? `${said}.` : said;
    // also kept beside the list until dismissed (and across a reload): the next message
    // would take it from view
    if (lost.length) this.keepLost([...this.lost, ...lost]);
    if (lost.length) this.say(`${kept} Your text, not saved: “${lost.map((l) => l.text).join("” “")}”`, "error");
    else this.say(`${kept} What you typed is kept: made again on its sentence.`, "warn");
  }

  lostKey() { return `taiyaku.lost.${this.project}`; }

  loadLost() {
    const kept = (G.lost = G.lost || {});
    if (!Array.isArray(kept[this.project])) {
      let list = [];
      try {
        list = JSON.parse(lasting().getItem(this.lostKey()) || "[]");
        const older = JSON.parse(lasting().getItem("taiyaku.lost") || "[]"); // kept for every project once
        if (Array.isArray(older) && older.length) {
          list = [...(Array.isArray(list) ? list : []), ...older.map((text) => ({ where: "", text: String(text) }))];
          lasting().setItem(this.lostKey(), JSON.stringify(list));
        }
        lasting().removeItem("taiyaku.lost");
      } catch (e) { /* none */ }
      kept[this.project] = (Array.isArray(list) ? list : []).filter((l) => l && typeof l.text === "string")
        .map((l) => ({ where: String(l.where || ""), text: l.text }));
    }
    return kept[this.project];
  }

  keepLost(entries) {
    this.lost = G.lost[this.project] = entries;
    try {
      if (entries.length) lasting().setItem(this.lostKey(), JSON.stringify(entries));
      else lasting().removeItem(this.lostKey());
    } catch (e) { /* kept in memory */ }
  }

  saveDraft() {
    const row = this.editing && this.rows.querySelector(".row.editing");
    const segs = row ? [...row.querySelectorAll("textarea.ed")]
      .filter((ta) => ta.value.trim() !== ta.dataset.original.trim())
      .map((ta) => [ta.dataset.segside, Number(ta.dataset.seg), ta.dataset.original, ta.value,
                    this.state[ta.dataset.segside].length]) : [];
    this.draft = segs.length ? { k: this.editing.k, segs } : null;
    this.savePending();
  }

  /** Where the reviewer is, kept in the tab at once (the server hears it a moment later,
   *  with the next message): a reload opens there, however soon it comes. */
  rememberView() {
    const ss = storage();
    if (ss) ss.setItem(`taiyaku.view.${this.project}`, JSON.stringify({ pair: this.cur, filter: this.filter }));
  }

  localView() {
    try { return JSON.parse(storage().getItem(`taiyaku.view.${this.project}`) || "null"); } catch (e) { return null; }
  }

  /** The list and the side fill the window below the grid's top, so the current row is on screen. */
  fitHeight() {
    const top = Math.max(this.scroller.getBoundingClientRect().top, 0);
    const h = `${Math.max(320, Math.floor(window.innerHeight - top - 16))}px`;
    this.scroller.style.height = h;
    this.side.style.height = h;
  }

  flush(extra) {
    const view = { pair: this.cur, filter: this.filter };
    this.args.setTriggerValue("msg", { client: this.client, ops: this.pending, base: this.base, since: this.since, view,
                                       have: this.have || {}, ...extra });
  }

  // -- applying an operation --------------------------------------------
  run(state, o) {
    if (o.op === "undo" || o.op === "redo") return state; // shown from the stacks
    return this.ops[o.op](state, ...o.args);
  }

  /** Apply at once, queue for Python. Returns false (and says why) if refused here. */
  act(op, args, cursor, extra) {
    this.armed = null;
    let next;
    try {
      next = this.run(this.state, { op, args });
    } catch (e) {
      if (e instanceof Refused) { this.say(e.message, "warn"); return false; }
      throw e;
    }
    this.undoStack.push({ state: this.state, cur: this.cur, op });
    this.redoStack = [];
    this.state = next;
    if (cursor !== undefined) this.cur = cursor;
    this.rememberView(); // the message that carries the operation carries the view to the server
    this.enqueue(op, args, extra);
    this.refresh();
    return true;
  }

  history(which) {
    const from = which === "undo" ? this.undoStack : this.redoStack;
    const to = which === "undo" ? this.redoStack : this.undoStack;
    if (!from.length && !(which === "undo" ? this.canUndo : this.canRedo)) {
      this.say(`nothing to ${which}`, "warn");
      return;
    }
    // The history is the project's: a step this window did not make (another window's, or
    // one from before the page opened) is taken back only when asked twice.
    if (!from.length && this.armed !== which) {
      this.armed = which;
      const key = which === "undo" ? "Z" : "Shift+Z";
      this.say(`${key} again to ${which} the project's last ${which === "undo" ? "" : "undone "}change: `
        + "this window did not make it (another window did, or it is from before this page opened).", "warn");
      return;
    }
    const own = from.length > 0;
    // once asked twice, Z held down goes on through the project's earlier steps without asking again
    this.armed = own ? null : which;
    let what = "…"; // a step this window did not make: the server names it (foreignStep)
    if (own) {
      const back = from.pop();
      // either way the cursor goes to the pair the step is about, not back to where Z was pressed
      to.push({ state: this.state, cur: back.cur, op: back.op });
      this.state = back.state;
      this.cur = back.cur;
      what = stepName(back.op, back.cur);
    } else {
      // That step now lies between this window's own steps and the project's end of history:
      // they can no longer be taken back one key each, in their order.
      to.length = 0;
    }
    this.rememberView();
    this.enqueue(which, []);
    if (!own) this.foreign = { which, seq: this.seq };
    this.say((which === "undo" ? "Undone" : "Redone") + what, "info");
    this.refresh();
  }

  /** The acknowledgement of an undo or redo of a step this window did not make: say which
   *  step it was and go to its pair, as for one of its own. */
  foreignStep(ack) {
    const f = this.foreign;
    if (!f || ack.seq < f.seq) return;
    this.foreign = null;
    if (ack.error || ack.seq !== f.seq || !ack.step) return;
    if (ack.focus != null) this.cur = Math.min(Math.max(ack.focus, 0), Math.max(this.state.pairs.length - 1, 0));
    this.say((f.which === "undo" ? "Undone" : "Redone") + stepName(ack.step, this.cur), "info");
  }

  enqueue(op, args, extra) {
    this.seq += 1;
    const o = { seq: this.seq, op, args, ...extra };
    this.pending.push(o);
    this.savePending(); // before anything else: a closed tab or dead server loses nothing
    this.sentAt.set(o.seq, performance.now());
    this.resends = 0;
    this.flush();
    this.watchSaving();
  }

  /** Say so, plainly, when the server stops answering (it is down, or the connection is):
   *  the work is kept in this browser and goes with the next page of the project (Streamlit
   *  does not always reconnect by itself); and say when it has gone. */
  watchSaving() {
    if (!this.pending.length) {
      clearTimeout(this.stallTimer);
      this.stallTimer = null;
      if (this.stalled) { // (a refusal or a lost text said since stays said)
        this.stalled = false;
        if (this.msg.textContent.startsWith("Not saved yet")) this.say("Saved: the server answers again.", "info");
      }
      return;
    }
    if (this.stallTimer) return;
    const answers = this.acks;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (!this.pending.length || !this.root.isConnected) return;
      if (this.acks === answers) {
        this.stalled = true;
        this.sayStalled();
        this.flush(); // once more, in case the message itself was lost
      }
      this.watchSaving(); // still waiting: look again
    }, STALL_MS);
  }

  sayStalled() {
    const n = this.pending.length;
    this.say(`Not saved yet: the server does not answer. Your ${n} change${n > 1 ? "s are" : " is"} kept `
      + "in this browser: once the server runs again, reload this page to save "
      + (n > 1 ? "them." : "it."), "error");
  }

  // -- the list as shown ------------------------------------------------
  shown() {
    if (this._shown && this._shownFor === this.state && this._shownFilter === JSON.stringify(this.filter)) return this._shown;
    // full-width and half-width forms alike (NFKC): an input method types ２００５ and ＮＡＴＯ
    const fold = (text) => text.normalize("NFKC").toLowerCase();
    const f = this.filter, q = fold(f.query.trim());
    const st = this.state;
    const out = [];
    st.pairs.forEach((p, k) => {
      if (f.status !== "all" && p.status !== f.status) return;
      if (f.review && !p.reasons.length) return;
      if (f.kind !== "all") {
        const kind = !p.ja.length || !p.en.length ? "orphan" : p.ja.length === 1 && p.en.length === 1 ? "1-1" : "m-n";
        if (kind !== f.kind) return;
      }
      if (q) {
        const text = joined(p.ja.map((i) => st.ja[i]), "") + "\n" + joined(p.en.map((i) => st.en[i]), " ");
        if (!fold(text).includes(q)) return;
      }
      out.push(k);
    });
    this._shown = out;
    this._shownFor = st;
    this._shownFilter = JSON.stringify(this.filter);
    this._pos = new Map(out.map((k, i) => [k, i]));
    return out;
  }

  position(k) { this.shown(); return this._pos.has(k) ? this._pos.get(k) : -1; }

  /** The shown pair `delta` places from the current one (which may be hidden). */
  step(delta) {
    const shown = this.shown();
    if (!shown.length) return this.cur;
    let i = this.position(this.cur);
    if (i < 0) { // the current pair is hidden: the next shown one after it
      i = shown.findIndex((k) => k > this.cur);
      if (i < 0) i = shown.length;
      if (delta > 0) delta -= 1;
    }
    return shown[Math.min(Math.max(i + delta, 0), shown.length - 1)];
  }

  go(k, center) {
    if (k === undefined || k === null) return;
    this.leaveEditor();
    this.cur = Math.min(Math.max(k, 0), Math.max(this.state.pairs.length - 1, 0));
    this.refresh(center);
    this.viewChanged();
  }

  viewChanged() {
    this.rememberView();
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.flush(), 700); // where the reviewer is: saved, not urgent
  }

  // -- building the page ------------------------------------------------
  build() {
    const r = this.root;
    r.innerHTML = "";
    const statusSel = el("select", { class: "f-status", "aria-label": "Status" },
      ...[["all", "any status"], ["auto", "auto"], ["edited", "edited"], ["confirmed", "confirmed"]].map(([v, t]) => el("option", { value: v, text: t })));
    const kindSel = el("select", { class: "f-kind", "aria-label": "Kind" },
      ...[["all", "any kind"], ["1-1", "1-1"], ["m-n", "m-n"], ["orphan", "1-0 / 0-1"]].map(([v, t]) => el("option", { value: v, text: t })));
    const review = el("label", { class: "f-review-l" }, el("input", { type: "checkbox", class: "f-review" }), " needs review");
    const search = el("input", { type: "search", class: "f-query", placeholder: "Search both languages", "aria-label": "Search" });
    const goto = el("input", { type: "text", inputmode: "numeric", class: "f-goto", placeholder: "Go to #", "aria-label": "Go to pair" });
    this.counts = el("span", { class: "counts", "aria-live": "polite" });
    this.legend = el("span", { class: "legend", "aria-label": "Confidence colours" });
    this.msg = el("div", { class: "msg", role: "status", "aria-live": "polite" });
    const bar = el("div", { class: "bar" }, review, statusSel, kindSel, search, goto, this.legend, this.counts);
    this.scroller = el("div", { class: "scroller", tabindex: "0" });
    this.grid = el("div", { role: "grid", class: "grid", "aria-label": "Aligned pairs", "aria-multiselectable": "false" });
    this.top = el("div", { class: "spacer", role: "presentation" });
    this.bottom = el("div", { class: "spacer", role: "presentation" });
    this.rows = el("div", { class: "rows", role: "rowgroup" });
    this.grid.append(this.top, this.rows, this.bottom);
    this.scroller.append(this.grid);
    this.panel = el("div", { class: "panel" });
    this.srcJa = el("div", { class: "source", lang: "ja", "aria-label": "Japanese source" });
    this.srcEn = el("div", { class: "source", lang: "en", "aria-label": "English source" });
    const side = this.side = el("div", { class: "side" }, this.panel, this.srcJa, this.srcEn);
    r.append(el("div", { class: "tg" }, bar, this.msg, el("div", { class: "main" }, this.scroller, side)));
    this.controls = { statusSel, kindSel, review: review.querySelector("input"), search, goto };

    // After a filter is chosen the keys go back to the list.
    const back = () => this.scroller.focus({ preventScroll: true });
    statusSel.addEventListener("change", () => { this.setFilter({ status: statusSel.value }); back(); });
    kindSel.addEventListener("change", () => { this.setFilter({ kind: kindSel.value }); back(); });
    this.controls.review.addEventListener("change", () => { this.setFilter({ review: this.controls.review.checked }); back(); });
    search.addEventListener("input", () => this.setFilter({ query: search.value }));
    // Enter or Escape in a box gives the keys back to the list (the search kept: Chrome's
    // own Escape would clear it).
    for (const box of [search, goto]) box.addEventListener("keydown", (e) => {
      if (composing(e) || !(e.key === "Escape" || (e.key === "Enter" && box === search))) return;
      e.preventDefault();
      e.stopPropagation();
      back();
    });
    goto.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      const n = parseInt(goto.value, 10);
      if (!(n >= 1 && n <= this.state.pairs.length)) { this.say(`there is no pair ${goto.value}`, "warn"); return; }
      if (this.position(n - 1) < 0) this.showAll(); // hidden by the filter: show everything
      goto.value = "";
      this.say(""); // what an earlier key said is about another pair
      this.go(n - 1, true);
      this.scroller.focus();
    });
    this.scroller.addEventListener("scroll", () => {
      if (!this.scrollQueued) {
        this.scrollQueued = true;
        requestAnimationFrame(() => { this.scrollQueued = false; this.renderWindow(); });
      }
    });
    this.rows.addEventListener("mousedown", (e) => this.onRowPress(e));
    this.rows.addEventListener("click", (e) => this.onRowClick(e));
    this.panel.addEventListener("click", (e) => this.onPanelClick(e));
    for (const src of [this.srcJa, this.srcEn]) src.addEventListener("click", (e) => this.onSourceClick(e));
    this.keyHandler = (e) => this.onKey(e);
    window.addEventListener("keydown", this.keyHandler, true);
    this.resizeHandler = () => this.fitHeight();
    window.addEventListener("resize", this.resizeHandler);
    // Closing or reloading the tab with work not saved yet: the browser asks first
    // (the work is kept for the next tab of the project either way).
    this.unloadHandler = (e) => { if (this.unsaved() && this.root.isConnected) { e.preventDefault(); e.returnValue = ""; } };
    window.addEventListener("beforeunload", this.unloadHandler);
    // Back in this tab: another window may have changed the project meanwhile.
    this.syncHandler = () => { if (document.visibilityState === "visible") this.sync(); };
    window.addEventListener("focus", this.syncHandler);
    document.addEventListener("visibilitychange", this.syncHandler);
  }

  /** Ask Python whether another window changed the project (grid.sync): with nothing
   *  queued and no editor open, so that the saved state it may send replaces nothing
   *  (with work queued, its acknowledgement brings that state, or says why not). */
  sync() {
    if (!this.server || this.pending.length || this.editing || !this.root.isConnected) return; // a grid left behind
    this.flush({ sync: true, at: Date.now() }); // "at": a message of its own, however alike
  }

  destroy() {
    window.removeEventListener("keydown", this.keyHandler, true);
    window.removeEventListener("resize", this.resizeHandler);
    window.removeEventListener("beforeunload", this.unloadHandler);
    window.removeEventListener("focus", this.syncHandler);
    document.removeEventListener("visibilitychange", this.syncHandler);
    clearTimeout(this.viewTimer);
  }

  /** Every pair shown again: the filters and the search cleared. */
  showAll() {
    Object.assign(this.filter, NO_FILTER);
    this.syncControls();
  }

  syncControls() {
    const c = this.controls;
    c.statusSel.value = this.filter.status;
    c.kindSel.value = this.filter.kind;
    c.review.checked = !!this.filter.review;
    c.search.value = this.filter.query;
  }

  setFilter(change) {
    Object.assign(this.filter, change);
    const shown = this.shown();
    if (shown.length && this.position(this.cur) < 0) {
      const next = shown.find((k) => k > this.cur);
      this.cur = next === undefined ? shown[shown.length - 1] : next;
    }
    this.scroller.scrollTop = 0;
    this.refresh(true);
    this.viewChanged();
  }

  say(text, kind) {
    this.saidCount = (this.saidCount || 0) + 1;
    this.msg.textContent = text;
    this.msg.className = `msg ${kind || ""}`;
    clearTimeout(this.msgTimer);
    if (kind === "info") this.msgTimer = setTimeout(() => { this.msg.textContent = ""; }, 2500);
  }

  // -- rows -------------------------------------------------------------
  estimate(p) {
    const st = this.state;
    const ja = p.ja.reduce((n, i) => n + st.ja[i][0].length, 0);
    const en = p.en.reduce((n, i) => n + st.en[i][0].length, 0);
    return 34 + 21 * Math.max(Math.ceil(ja / 34), Math.ceil(en / 70), 1) + 4 * Math.max(p.ja.length, p.en.length);
  }

  sig(p) { // a row's identity for its measured height
    const st = this.state;
    return p.ja.map((i) => st.ja[i][0].length).join(",") + "|" + p.en.map((i) => st.en[i][0].length).join(",");
  }

  height(k) {
    const p = this.state.pairs[k];
    const h = this.heights.get(this.sig(p));
    return h === undefined ? this.estimate(p) : h;
  }

  offsets() {
    const shown = this.shown();
    if (this._off && this._offFor === shown && this._offState === this.state && !this._offDirty) return this._off;
    const off = new Float64Array(shown.length + 1);
    for (let i = 0; i < shown.length; i++) off[i + 1] = off[i] + this.height(shown[i]);
    this._off = off; this._offFor = shown; this._offState = this.state; this._offDirty = false;
    return off;
  }

  refresh(center) {
    const t0 = performance.now();
    this.shown();
    this.ensureVisible(center);
    this.renderWindow(true);
    const row = this.currentRow();
    if (this.position(this.cur) >= 0 && !row) {
      // The list had no height to scroll in yet (its first draw, after a reload or in a
      // new tab): the spacers hold the rows now, so scroll to the current one again.
      this.ensureVisible(true);
      this.renderWindow(true);
    } else if (row && this.scroller.clientHeight) {
      // Rows not measured before were placed by an estimate: correct by where the row is
      // (renderWindow has just measured the rows, so this reads no new layout).
      const r = row.getBoundingClientRect(), box = this.scroller.getBoundingClientRect();
      if (r.bottom > box.bottom && r.height < box.height) this.scroller.scrollTop += r.bottom - box.bottom + 8;
      else if (r.top < box.top) this.scroller.scrollTop -= box.top - r.top + 8;
    }
    this.renderPanel();
    this.renderCounts();
    // The source pane follows a frame later: the row the key changed is painted first.
    if (!this.sourceQueued) {
      this.sourceQueued = true;
      requestAnimationFrame(() => { this.sourceQueued = false; this.renderSource(); });
    }
    G.lastRenderMs = performance.now() - t0;
    if (G.firstPaint === undefined && this.rows.children.length) { // for scripts/bench_app.py
      G.firstPaint = null;
      requestAnimationFrame(() => { G.firstPaint = performance.now(); });
    }
  }

  ensureVisible(center) {
    const i = this.position(this.cur);
    if (i < 0) return;
    const off = this.offsets();
    const top = off[i], bottom = off[i + 1];
    const view = this.scroller.clientHeight || 600;
    const st = this.scroller.scrollTop;
    if (center && (top < st || bottom > st + view)) this.scroller.scrollTop = Math.max(0, top - view / 3);
    else if (top < st) this.scroller.scrollTop = Math.max(0, top - 8);
    else if (bottom > st + view) this.scroller.scrollTop = bottom - view + 8;
  }

  renderWindow(force) {
    const shown = this.shown();
    const off = this.offsets();
    const st = this.scroller.scrollTop, view = this.scroller.clientHeight || 600;
    let lo = 0, hi = shown.length;
    const from = Math.max(0, st - OVERSCAN);
    while (lo < hi) { const m = (lo + hi) >> 1; if (off[m + 1] <= from) lo = m + 1; else hi = m; }
    const start = lo;
    let end = start;
    while (end < shown.length && off[end] < st + view + OVERSCAN) end++;
    const drawn = this.drawn || {};
    if (drawn.start === start && drawn.end === end && drawn.sel === this.selVersion && !this.editing
      && this.sameRows(drawn, shown)) {
      // The same rows in the same places: redraw only the pairs that changed and the
      // rows the cursor left and reached (a new row's text costs a layout of its own).
      const moved = drawn.cur !== this.cur, was = drawn.state.pairs, now = this.state.pairs;
      let resized = false;
      for (let i = start; i < end; i++) {
        const k = shown[i];
        if (!(moved && (k === drawn.cur || k === this.cur)) && was[k] && now[k] && samePair(was[k], now[k])) continue;
        const old = this.rows.querySelector(`.row[data-k="${k}"]`);
        if (!old) continue;
        const row = this.row(k, i);
        old.replaceWith(row);
        const key = this.sig(now[k]), h = row.offsetHeight;
        if (h && this.heights.get(key) !== h) { this.heights.set(key, h); resized = true; }
      }
      Object.assign(drawn, { state: this.state, shown, cur: this.cur });
      if (resized) {
        this._offDirty = true;
        const off2 = this.offsets();
        this.top.style.height = `${off2[start]}px`;
        this.bottom.style.height = `${off2[shown.length] - off2[end]}px`;
      }
      return;
    }
    this.drawn = { state: this.state, shown, start, end, cur: this.cur, sel: this.selVersion };
    this.winStart = start; this.winEnd = end;
    // While the text is edited its row is kept as it is, focus and caret included;
    // moving it blurs the text box, which must not count as leaving the editor.
    const editingK = this.editing ? this.editing.k : null;
    const keep = editingK === null ? null : this.rows.querySelector(".row.editing");
    const focused = keep && keep.contains(this.root.getRootNode().activeElement)
      ? this.root.getRootNode().activeElement : null;
    const caret = focused ? [focused.selectionStart, focused.selectionEnd] : null;
    const frag = document.createDocumentFragment();
    this.redrawing = true;
    for (let i = start; i < end; i++) {
      const k = shown[i];
      frag.append(keep && editingK === k ? keep : this.row(k, i));
    }
    this.redrawing = true;
    if (!shown.length) {
      const why = !this.state.pairs.length ? "This alignment has no pairs."
        : this.filter.review && this.filter.status === "all" && this.filter.kind === "all" && !this.filter.query
          ? "Nothing needs review: every pair is confirmed, or confident and simple." : "No pair matches these filters.";
      frag.append(el("div", { class: "none", role: "presentation", text: why }));
    }
    this.rows.replaceChildren(frag);
    this.redrawing = false;
    if (focused && focused.isConnected) { focused.focus({ preventScroll: true }); focused.setSelectionRange(...caret); }
    this.grid.setAttribute("aria-rowcount", String(shown.length));
    // Measure what was drawn; spacers hold the rest.
    let changed = false;
    for (const r of this.rows.children) {
      const k = Number(r.dataset.k);
      const p = this.state.pairs[k];
      if (!p) continue;
      const key = this.sig(p), h = r.offsetHeight;
      if (h && this.heights.get(key) !== h) { this.heights.set(key, h); changed = true; }
    }
    if (changed) this._offDirty = true;
    const off2 = this.offsets();
    this.top.style.height = `${off2[start]}px`;
    this.bottom.style.height = `${off2[shown.length] - off2[end]}px`;
  }

  /** The rows drawn are those of ``shown``, over the same segments. */
  sameRows(drawn, shown) {
    const a = drawn.state, b = this.state;
    if (!a || !drawn.shown) return false;
    if (a !== b && !(a.ja === b.ja && a.en === b.en && a.mode === b.mode)) return false;
    return drawn.shown === shown || (drawn.shown.length === shown.length && shown.every((k, i) => k === drawn.shown[i]));
  }

  segSpans(side, ids, current) {
    const st = this.state;
    if (!ids.length) return [el("span", { class: "empty", text: `— no ${LANG[side]} —` })];
    return ids.map((i) => {
      const [text, , , cuts] = st[side][i];
      const span = el("span", { class: "seg" + (this.sel[side].has(i) ? " picked" : ""), "data-seg": i, "data-segside": side });
      if (current && cuts && cuts.length && !this.editing) {
        let at = 0;
        for (const c of cuts) {
          span.append(text.slice(at, c), el("button", { class: "cut", "data-cut": c, "data-seg": i, "data-segside": side, title: "Cut the segment here", "aria-label": `cut after character ${c}`, text: "✂" }));
          at = c;
        }
        span.append(text.slice(at));
      } else span.textContent = text;
      return span;
    });
  }

  row(k, i) {
    const p = this.state.pairs[k];
    const current = k === this.cur;
    const level = p.score >= this.args.data.green ? "high" : p.score >= this.args.data.amber ? "medium" : "low";
    const kind = `${p.ja.length}-${p.en.length}`;
    const chips = p.reasons.map((r) => el("span", { class: `chip r-${r}`, title: this.reasonNames[r] || r, text: r === "orphan" ? kind : r }));
    const stale = p.status === "edited" && !p.rescored;
    // a confirmed pair's score is the aligner's guess, not a warning: the reviewer has vouched for it
    const vouched = p.status === "confirmed";
    const score = el("span", { class: `chip score ${vouched ? "vouched" : level}` + (stale ? " stale" : ""),
      title: vouched ? `the aligner's confidence (${level}); you confirmed the pair`
        : stale ? (this.state.mode === "headlines" && !(p.cands || []).some((c) => c[0].join() === p.ja.join())
          ? "linked by hand: the best score of a candidate it holds (the aligner ranked no such link)" // edits.relink
          : "the aligner's confidence, from before the edit")
        : `confidence: ${level}` + (p.rescored ? " (recomputed after the edit)" : ""),
      text: scoreText(p.score) });
    const status = el("span", { class: `chip status s-${p.status}`, text: p.status === "confirmed" ? "✓ confirmed" : p.status });
    return el("div", {
      role: "row", class: "row" + (current ? " current" : ""), "data-pair": i, "data-k": k, "data-status": p.status,
      "data-kind": kind, "aria-selected": current ? "true" : "false", "aria-rowindex": i + 1,
    },
    el("div", { role: "gridcell", class: "num", text: String(k + 1) }),
    el("div", { role: "gridcell", class: "cell", "data-side": "ja", lang: "ja" }, ...this.segSpans("ja", p.ja, current)),
    el("div", { role: "gridcell", class: "cell", "data-side": "en", lang: "en" }, ...this.segSpans("en", p.en, current)),
    el("div", { role: "gridcell", class: "meta" }, score, status, el("span", { class: "kind", text: kind }), ...chips));
  }

  /** What the confidence chips' colours mean, at the thresholds Python sends (align.review). */
  renderLegend(green, amber) {
    const g = scoreText(green), a = scoreText(amber);
    this.legend.replaceChildren("Confidence: ",
      el("span", { class: "chip score high", title: "the aligner is confident in this pair", text: `≥ ${g} sure` }), " ",
      el("span", { class: "chip score medium", title: "needs review: check this pair", text: `${a}–${g} check` }), " ",
      el("span", { class: "chip score low", title: "needs review: probably wrong", text: `< ${a} doubtful` }));
  }

  currentRow() { return this.rows.querySelector(`.row[data-k="${this.cur}"]`); }

  renderCounts() {
    const st = this.state, shown = this.shown();
    let confirmed = 0, review = 0;
    for (const p of st.pairs) { if (p.status === "confirmed") confirmed++; if (p.reasons.length) review++; }
    const pend = this.pending.length ? ` · saving ${this.pending.length}…` : "";
    this.counts.textContent = `${shown.length} of ${st.pairs.length} shown · ${review} need review · ${confirmed} confirmed${pend}`;
    this.counts.dataset.pending = String(this.pending.length);
  }

  // -- the side: current pair, candidates, selection, sources ------------
  renderPanel() {
    const st = this.state, p = st.pairs[this.cur];
    const parts = [];
    const picked = SIDES.map((s) => [...this.sel[s]].sort((a, b) => a - b));
    if (picked[0].length || picked[1].length) {
      parts.push(el("div", { class: "picking" },
        el("b", { text: "Link: " }), `Japanese sentence ${picked[0].map((i) => i + 1).join(", ") || "—"} ↔ English sentence ${picked[1].map((i) => i + 1).join(", ") || (st.mode === "headlines" ? "(this headline)" : "—")} (sentence numbers, not pair numbers)`,
        el("span", { class: "hint", text: "  L links them · Esc clears" })));
    }
    if (this.lost.length) {
      parts.push(el("div", { class: "lost" }, el("b", { text: "Your text, not saved (another window changed its sentence): " }),
        ...this.lost.map((l) => el("div", { class: "lost-item" }, el("span", { class: "lost-where", text: l.where ? `${l.where}: ` : "" }),
          el("span", { class: "lost-text", text: l.text }))),
        el("button", { type: "button", class: "lost-done", text: "Dismiss" })));
    }
    if (!p) { this.panel.replaceChildren(...parts, el("div", { class: "hint", text: "No pairs." })); return; }
    parts.push(el("div", { class: "ptitle", text: `Pair ${this.cur + 1} of ${st.pairs.length} · ${p.ja.length}-${p.en.length} · ${p.status}` }));
    if (p.reasons.length) parts.push(el("div", { class: "why" }, ...p.reasons.map((r) => el("div", { text: "• " + (this.reasonNames[r] || r) }))));
    if (st.mode === "headlines") {
      const linked = new Set(p.ja);
      const list = el("ol", { class: "cands" });
      (p.cands || []).slice(0, 5).forEach(([ids, sc], n) => {
        const on = ids.length && ids.every((i) => linked.has(i));
        list.append(el("li", { class: "cand" + (on ? " linked" : ""), "data-cand": n },
          el("span", { class: "ckey", text: String(n + 1) }),
          el("span", { class: "cpos", text: `sentence ${ids.map((i) => i + 1).join("+")} of ${st.ja.length} · ${scoreText(sc)}` }),
          el("div", { class: "ctext", lang: "ja", text: ids.map((i) => st.ja[i][0]).join("") })));
      });
      parts.push(el("div", { class: "hint", text: "Candidates (press 1–5, or click; Ctrl+click sentences in the article and press L for several):" }), list);
    } else {
      parts.push(el("div", { class: "hint", text: "E edit in place · ✂ cut at a sentence end · Ctrl+click or [ ] pick segments, L link · all keys in the sidebar" }));
    }
    this.panel.replaceChildren(...parts);
  }

  renderSource() {
    const st = this.state;
    for (const [side, box] of [["ja", this.srcJa], ["en", this.srcEn]]) {
      const show = side === "ja" || st.mode === "document";
      box.hidden = !show;
      if (!show) continue;
      if (box._segs !== st[side]) { // rebuild only when the text changed
        box._segs = st[side];
        const frag = document.createDocumentFragment();
        let prevEnd = null, para = el("p"), block = el("div", { class: "block" }), paras = 0;
        const endPara = () => {
          block.append(para);
          if (++paras % SOURCE_BLOCK === 0) { frag.append(block); block = el("div", { class: "block" }); }
          para = el("p");
        };
        st[side].forEach(([text, start, end], i) => {
          // A paragraph break where the source had more than a space between sentences,
          // and around a segment that does not come from a file (pasted, edited, one a line).
          const gap = start !== null && prevEnd !== null ? start - prevEnd : 2;
          if (i > 0 && (side === "ja" ? gap >= 1 : gap >= 2)) endPara();
          else if (i > 0 && side === "en") para.append(" ");
          para.append(el("span", { class: "sseg", "data-seg": i, "data-segside": side, "data-start": start, text }));
          if (end !== null) prevEnd = end;
        });
        endPara();
        if (block.childNodes.length) frag.append(block);
        box.replaceChildren(el("div", { class: "stitle", text: side === "ja" ? "Japanese article" : "English text" }), frag);
        box._spans = box.querySelectorAll(".sseg");
        box._lit = [];
      }
      const p = st.pairs[this.cur];
      for (const s of box._lit || []) s.classList.remove("on", "picked", "near-before", "near-after");
      box._lit = [];
      let firstOn = null;
      for (const i of p ? p[side] : []) {
        const s = box._spans[i];
        if (s) { s.classList.add("on"); box._lit.push(s); if (!firstOn || i < Number(firstOn.dataset.seg)) firstOn = s; }
      }
      if (p && !p[side].length && st.mode === "document") { // no counterpart: show where it would be
        const near = this.nearestSegment(side);
        const s = near && box._spans[near.seg];
        if (s) { s.classList.add(near.after ? "near-after" : "near-before"); box._lit.push(s); firstOn = s; }
      }
      for (const i of this.sel[side]) { const s = box._spans[i]; if (s) { s.classList.add("picked"); box._lit.push(s); } }
      if (firstOn && box._scrolledTo !== firstOn) { // scroll only when the pair changed: reading positions costs a layout
        box._scrolledTo = firstOn;
        const top = firstOn.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
        if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - 40) box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }
  }

  /** For a pair with nothing on ``side``: the segment there that the neighbouring pairs
   *  hold next to it ({seg, after}: the gap is after seg, else before it), or null. */
  nearestSegment(side) {
    const pairs = this.state.pairs;
    for (let k = this.cur - 1; k >= 0; k--) if (pairs[k][side].length) return { seg: Math.max(...pairs[k][side]), after: true };
    for (let k = this.cur + 1; k < pairs.length; k++) if (pairs[k][side].length) return { seg: Math.min(...pairs[k][side]), after: false };
    return null;
  }

  // -- pointer ------------------------------------------------------------
  /** Run a key's or a click's action: one that says nothing takes the last message away
   *  (it was about what came before); one it says again stays. */
  freshMessage(action) {
    const before = this.msg.textContent, said = this.saidCount;
    const done = action();
    if (done && this.saidCount === said && before) {
      if (this.stalled && this.pending.length) this.sayStalled(); // still so, with the new count
      else this.say("");
    }
    return done;
  }

  onRowClick(e) {
    const cut = e.target.closest(".cut");
    const row = e.target.closest(".row");
    if (!row) return;
    const k = Number(row.dataset.k);
    if (cut) {
      e.preventDefault();
      this.freshMessage(() => this.act("split_segment", [cut.dataset.segside, Number(cut.dataset.seg), Number(cut.dataset.cut)], k));
      return;
    }
    const seg = e.target.closest(".seg");
    if (seg && (e.ctrlKey || e.metaKey || e.shiftKey)) this.toggle(seg.dataset.segside, Number(seg.dataset.seg));
  }

  /** A row is chosen on the press, before the editor it leaves redraws the list. */
  onRowPress(e) {
    const row = e.target.closest(".row");
    if (!row || e.target.closest(".cut, textarea") || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const k = Number(row.dataset.k);
    if (k !== this.cur) this.go(k);
  }

  onPanelClick(e) {
    if (e.target.closest(".lost-done")) { this.keepLost([]); this.refresh(); return; }
    const c = e.target.closest(".cand");
    if (c) this.pickCandidate(Number(c.dataset.cand));
  }

  onSourceClick(e) {
    const s = e.target.closest(".sseg");
    if (!s) return;
    const side = s.dataset.segside, i = Number(s.dataset.seg);
    if (e.ctrlKey || e.metaKey || e.shiftKey) { this.toggle(side, i); return; }
    // A plain click goes to the pair holding the sentence, and picks it for linking.
    const k = this.state.pairs.findIndex((p) => p[side].includes(i));
    if (this.state.mode === "headlines" && side === "ja") { this.toggle(side, i); return; }
    if (k >= 0) {
      if (this.position(k) < 0) this.showAll();
      this.go(k, true);
    }
  }

  toggle(side, i) {
    const s = this.sel[side];
    if (s.has(i)) s.delete(i); else s.add(i);
    this.selVersion = (this.selVersion || 0) + 1;
    this.refresh();
  }

  pickCurrent(side) {
    const p = this.state.pairs[this.cur];
    if (!p) return;
    const s = this.sel[side];
    const all = p[side].length && p[side].every((i) => s.has(i));
    for (const i of p[side]) { if (all) s.delete(i); else s.add(i); }
    this.selVersion = (this.selVersion || 0) + 1;
    this.refresh();
  }

  clearSelection() {
    this.sel = { ja: new Set(), en: new Set() };
    this.selVersion = (this.selVersion || 0) + 1;
  }

  linkSelection() {
    const st = this.state;
    let ja = [...this.sel.ja], en = [...this.sel.en];
    if (st.mode === "headlines") {
      if (!en.length && st.pairs[this.cur]) en = st.pairs[this.cur].en.slice();
      if (!ja.length) { this.say("pick the sentences first: Ctrl+click them in the article", "warn"); return; }
    } else if (!ja.length || !en.length) {
      this.say("pick Japanese and English segments first (Ctrl+click, or [ and ] for the current pair's)", "warn");
      return;
    }
    const firstJa = Math.min(...ja);
    if (this.act("link", [ja, en])) {
      this.clearSelection();
      const k = this.state.pairs.findIndex((p) => (st.mode === "headlines" ? p.en.includes(en[0]) : p.ja.includes(firstJa)));
      if (k >= 0) { this.cur = k; this.refresh(true); }
    }
  }

  pickCandidate(n) {
    const p = this.state.pairs[this.cur];
    if (!p || this.state.mode !== "headlines") return;
    const c = (p.cands || [])[n];
    if (!c) { this.say(`there is no candidate ${n + 1}`, "warn"); return; }
    this.act("relink", [this.cur, c[0]]);
  }

  // -- editing in place ---------------------------------------------------
  openEditor(side) {
    const p = this.state.pairs[this.cur];
    if (!p) return;
    if (this.state.mode === "headlines" && side === "en" && !p.ja.length) side = "en";
    const row = this.currentRow();
    if (!row) return;
    this.editing = { k: this.cur };
    row.classList.add("editing");
    const areas = [];
    for (const s of SIDES) {
      const cell = row.querySelector(`.cell[data-side="${s}"]`);
      cell.replaceChildren(...p[s].map((i) => {
        const ta = el("textarea", { class: "ed", "data-segside": s, "data-seg": i, lang: s, rows: 1, "aria-label": `${LANG[s]} segment ${i + 1}`, spellcheck: "true" });
        ta.value = this.state[s][i][0];
        ta.dataset.original = ta.value;
        ta.addEventListener("input", () => { this.fit(ta); this.saveDraft(); });
        ta.addEventListener("keydown", (e) => this.onEditorKey(e, ta));
        areas.push(ta);
        return ta;
      }));
      if (!p[s].length) cell.replaceChildren(el("span", { class: "empty", text: `— no ${LANG[s]} —` }));
    }
    row.addEventListener("focusout", this.onFocusOut = (e) => {
      if (!this.redrawing && !row.contains(e.relatedTarget) && this.editing) this.leaveEditor();
    });
    areas.forEach((ta) => this.fit(ta));
    const first = areas.find((ta) => ta.dataset.segside === side) || areas[0];
    if (first) {
      first.focus({ preventScroll: true });
      first.setSelectionRange(first.value.length, first.value.length);
      this.ensureVisible(false);
    }
  }

  fit(ta) { ta.style.height = "auto"; ta.style.height = `${ta.scrollHeight + 2}px`; }

  onEditorKey(e, ta) {
    e.stopPropagation();
    if (composing(e)) return; // the IME's own Enter / Escape: it commits or cancels the conversion
    if (e.key === "Escape") { e.preventDefault(); this.leaveEditor(); this.scroller.focus(); return; }
    if (e.key === "Tab") { // Tab moves between the pair's segments: English, then Japanese
      e.preventDefault();
      const areas = [...this.currentRow().querySelectorAll("textarea.ed")];
      const order = areas.filter((a) => a.dataset.segside === "en").concat(areas.filter((a) => a.dataset.segside === "ja"));
      const i = order.indexOf(ta);
      const next = order[(i + (e.shiftKey ? -1 : 1) + order.length) % order.length];
      next.focus();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey) { // cut the segment at the caret
      e.preventDefault();
      const side = ta.dataset.segside, seg = Number(ta.dataset.seg);
      const raw = ta.value, caret = ta.selectionStart;
      const lead = raw.length - raw.trimStart().length;
      this.leaveEditor();
      const text = this.state[side][seg][0];
      const at = Math.min(Math.max(caret - lead, 0), text.length);
      if (at > 0 && at < text.length) this.act("split_segment", [side, seg, at]);
      this.scroller.focus();
    }
  }

  /** Save what was typed (one edit per changed segment) and close the editor. */
  leaveEditor() {
    if (!this.editing) return;
    const row = this.rows.querySelector(".row.editing");
    this.editing = null;
    if (!row) return;
    row.removeEventListener("focusout", this.onFocusOut);
    this.draft = null; // becomes the edits below, kept with the queue
    const changes = [...row.querySelectorAll("textarea.ed")]
      .filter((ta) => ta.value.trim() !== ta.dataset.original.trim())
      .map((ta) => [ta.dataset.segside, Number(ta.dataset.seg), ta.value, ta.dataset.original]);
    row.classList.remove("editing");
    this.drawn = null; // the row is redrawn without its text boxes, saved or not
    const k = Number(row.dataset.k), wasConfirmed = this.state.pairs[k] && this.state.pairs[k].status === "confirmed";
    let any = false;
    for (const args of changes) any = this.retext(args) || any;
    // (not "saved": the counts say when the server has it)
    // (no number: in a tab behind another window's merge, the pair's number is about to change)
    if (any && wasConfirmed) this.say("Edited. This pair is no longer confirmed: A confirms it again, Z undoes the edit.", "info");
    if (!any) { this.savePending(); this.refresh(); }
  }

  // -- keys ---------------------------------------------------------------
  onKey(e) {
    // Keys belong to the grid unless the reviewer is typing somewhere (our
    // editor handles its own keys; Streamlit's inputs keep theirs).
    const path = e.composedPath ? e.composedPath() : [];
    const t = path[0] || e.target;
    const typing = t && ((t.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(t.type))
      || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing || composing(e) || !this.root.isConnected) return;
    // A key typed in a dialog is the dialog's (Streamlit's "Connection error" holds the
    // focus while the server is down: an editor opened under it lost it at once, and the
    // letters typed for it became grid keys, queued and saved once the server was back).
    if (path.some((n) => n.getAttribute && (n.getAttribute("role") === "dialog" || n.getAttribute("aria-modal") === "true")
        && !this.root.contains(n))) return;
    if (this.holding && !["Shift", "Control", "Meta", "Alt"].includes(e.key)) {
      // the page switched project on its own: keys typed for the other are not taken
      if (e.key === "Enter" || e.key === "Escape") { this.holding = null; this.say(""); } else this.say(this.holding, "warn");
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const t0 = performance.now();
    const handled = this.freshMessage(() => this.key(e));
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
      const entry = { key: e.key, shift: e.shiftKey, t0, dom: performance.now() - t0 };
      G.keyLog.push(entry);
      requestAnimationFrame(() => { entry.frame = performance.now() - t0; });
      if (G.keyLog.length > 2000) G.keyLog.splice(0, 1000);
    }
  }

  key(e) {
    const k = e.key, shift = e.shiftKey, alt = e.altKey, st = this.state;
    if (k !== "z" && k !== "Z" && !["Shift", "Control", "Meta", "Alt"].includes(k)) this.armed = null; // asked twice in a row
    if (e.ctrlKey || e.metaKey) {
      if (k === "z" || k === "Z") { this.history(shift ? "redo" : "undo"); return true; }
      return false;
    }
    const lower = k.length === 1 ? k.toLowerCase() : k;
    const cur = this.cur;
    switch (lower) {
      case "j": case "ArrowDown":
        if (k === "ArrowDown" && (shift || alt)) { this.act("shift", [cur, shift ? "ja" : "en", "down"]); return true; }
        this.go(this.step(+1)); return true;
      case "k": case "ArrowUp":
        if (k === "ArrowUp" && (shift || alt)) {
          const moved = this.act("shift", [cur, shift ? "ja" : "en", "up"]);
          if (moved && this.state.pairs.length < st.pairs.length) this.cur = Math.max(0, cur - 1), this.refresh();
          return true;
        }
        this.go(this.step(-1)); return true;
      case "PageDown": this.go(this.step(+10)); return true;
      case "PageUp": this.go(this.step(-10)); return true;
      case "Home": this.go(this.shown()[0]); return true;
      case "End": this.go(this.shown()[this.shown().length - 1]); return true;
      case "n": {
        const n = st.pairs.length;
        for (let d = 1; d <= n; d++) {
          const j = (cur + d) % n;
          if (!st.pairs[j].reasons.length) continue;
          this.go(j, true);
          if (j <= cur) this.say(`No pair after ${cur + 1} needs review: back to the first one that does, pair ${j + 1}.`, "done");
          return true;
        }
        this.say("No pair needs review: every pair is confirmed, or confident and simple.", "info");
        return true;
      }
      case "a":
        if (shift) this.confirmUpTo();
        else if (st.pairs[cur] && st.pairs[cur].status === "confirmed") this.go(this.step(+1));
        else this.act("confirm", [cur], this.nextAfterConfirm(cur));
        return true;
      case "u": this.act("unconfirm", [cur]); return true;
      case "m": this.act(shift ? "merge_prev" : "merge_next", [cur], shift ? Math.max(cur - 1, 0) : cur); return true;
      case "s": this.act("split_pair", [cur, null, null]); return true;
      case "i": this.act("insert_empty", [cur, shift ? "en" : "ja"]); return true;
      case "g": { // glue the current pair's segments of one side into one
        const side = shift ? "en" : "ja";
        const ids = st.pairs[cur] ? st.pairs[cur][side] : [];
        if (ids.length < 2) { // the edit's own refusal speaks of picking, which this key does not do
          this.say(`this pair has ${ids.length ? "one" : "no"} ${LANG[side]} segment; ${side === "en" ? "Shift+G" : "G"} `
            + `joins a pair's ${LANG[side]} segments into one`, "warn");
          return true;
        }
        this.act("join_segments", [side, ids]); return true;
      }
      case "/": { // to the search box (Enter or Esc gives the keys back)
        const box = this.controls.search;
        box.focus();
        box.select();
        return true;
      }
      case "#": { // to the pair-number box
        this.controls.goto.focus();
        return true;
      }
      case "Backspace": // a Mac's delete key
      case "Delete": {
        const picked = [...this.sel.ja].map((i) => ["ja", i]).concat([...this.sel.en].map((i) => ["en", i]));
        if (picked.length === 1 && st.mode === "document") { this.clearSelection(); this.act("detach", picked[0]); }
        else this.act("delete_pair", [cur]);
        return true;
      }
      case "e": this.openEditor(shift ? "ja" : "en"); return true;
      case "[": this.pickCurrent("ja"); return true;
      case "]": this.pickCurrent("en"); return true;
      case "l": this.linkSelection(); return true;
      case "Escape": this.clearSelection(); this.refresh(); return true;
      case "z": this.history(shift ? "redo" : "undo"); return true;
      case "Z": this.history("redo"); return true;
      case "1": case "2": case "3": case "4": case "5":
        if (st.mode !== "headlines") return false;
        this.pickCandidate(Number(k) - 1); return true;
      default:
        if (k === "A") { this.confirmUpTo(); return true; }
        return false;
    }
  }

  /** Shift+A: confirm every shown pair up to the current one, and say how many. A red pair
   *  the reviewer has not changed is left for A alone: a confirmed link goes into the memory
   *  whatever its score, and one the aligner doubts must not get there in passing. */
  confirmUpTo() {
    const open = this.shown().filter((j) => j <= this.cur && this.state.pairs[j].status !== "confirmed");
    const doubted = (j) => this.state.pairs[j].status === "auto" && this.state.pairs[j].score < this.args.data.amber;
    const take = open.filter((j) => !doubted(j)), red = open.length - take.length;
    const reds = `${red} red pair${red === 1 ? "" : "s"}`;
    const left = red ? `; ${reds} left for A, one at a time` : "";
    if (!take.length && red) {
      this.say(`Nothing confirmed: the ${reds} up to here ${red === 1 ? "is" : "are"} left for A, one at a time.`, "warn");
      return;
    }
    if (this.act("confirm_many", [take])) {
      const n = take.length;
      this.say(`Confirmed ${n} pair${n === 1 ? "" : "s"} up to pair ${this.cur + 1} (Z undoes it)${left}.`, "done");
    }
  }

  nextAfterConfirm(k) {
    // A: confirm, then the next shown pair (a confirmed pair may leave the list).
    const shown = this.shown();
    const next = shown.find((j) => j > k);
    return next === undefined ? k : next;
  }
}

// ------------------------------------------------------ Streamlit entry
export default function (args) {
  const { parentElement, data } = args;
  let root = parentElement.querySelector(".taiyaku-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "taiyaku-root";
    parentElement.appendChild(root);
  }
  let grid = root._grid;
  if (!grid || grid.project !== data.project) {
    if (grid) grid.destroy();
    grid = root._grid = new Grid(root, args);
    G.instances[data.project] = grid;
  }
  G.current = grid;
  grid.update(args);
  // Streamlit calls this at unmount, but also when a render is overtaken by the next one
  // (new data while this call was on its way: a burst of acknowledgements). Only a grid
  // whose root has left the page ends; one that lives on keeps its queue and its keys.
  return () => setTimeout(() => {
    if (root._grid === grid && !root.isConnected) { grid.destroy(); root._grid = null; }
  }, 0);
}
