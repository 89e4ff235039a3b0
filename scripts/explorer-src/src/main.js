// The investigator's network explorer: sigma.js (WebGL) over a graphology graph, fed by the
// GraphQL API. Test contract (issue 16): inputs data-testid="api-key" and "connect";
// /explore?id=ID&asOf=YYYY-MM-DD opens that entity; window.explorer has nodes(), edges() and
// expand(id) (a promise).

import Graph from "graphology";
import forceAtlas2 from "graphology-layout-forceatlas2";
import Sigma from "sigma";
import { EdgeArrowProgram } from "sigma/rendering";
import { drawOnCanvas } from "@sigma/export-image";

import { ApiError, Q, gql, marksQuery, storeKey, storedKey } from "./api.js";
import { variants } from "./chinese.js";
import { download, toGEXF, toGraphML } from "./exporters.js";
import {
  SUPPLY_COLOURS,
  SUPPLY_EDGE_COLOURS,
  drawSupplyShapes,
  supplyEdgeAttributes,
  supplyEdgeLabel,
  supplyEdgeLines,
  supplyNodeLines,
} from "./supply.js";

const COLOURS = {
  COMPANY: "#0072b2",
  PERSON: "#009e73",
  ADDRESS: "#999999",
  SANCTION: "#d55e00",
  ...SUPPLY_COLOURS,
};
const EDGE_COLOURS = {
  OWNS: "#7fb2d6",
  OFFICER_OF: "#8fd1bd",
  REGISTERED_AT: "#cccccc",
  SANCTIONED: "#eba57a",
  ...SUPPLY_EDGE_COLOURS,
};
const CYCLE = "#e69f00";
const HIGHLIGHT = "#cc79a7";
const RESTRICTED = "#f0e442";
const PAGE = 100; // the API's largest page
const DAY = 86400000;
const FIRST_DAY = Date.UTC(2000, 0, 1);
const ROLES = ["agency", "investigator", "reviewer", "admin"];

const $ = (id) => document.getElementById(id);
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
const today = () => iso(Date.now());

const state = {
  viewer: null,
  asOf: today(),
  root: null,
  expanded: new Map(), // id -> {pages, hasNext, cursor, more, total}
  addedBy: new Map(), // node id -> Set of expanded ids that brought it
  pinned: new Set(),
  anchored: new Set(), // drawn by an explanation (cycle, path, owners): collapse leaves them
  selected: null,
  cycles: [], // [{ids, share, length}]
  highlight: { nodes: new Set(), edges: new Set() },
  owners: new Map(), // person id -> effective share, for the beneficial-owner tree
  pending: 0,
  timings: {},
};

const graph = new Graph({ multi: true, type: "directed" });
let renderer = null;

// -- rendering ----------------------------------------------------------------------------------

function nodeSize(attrs) {
  if (attrs.kind === "SANCTION") return 6;
  if (attrs.kind === "ADDRESS") return 6;
  return attrs.id === state.root ? 11 : 8;
}

function edgeLabel(link) {
  if (link.type === "OWNS") return link.share == null ? "owns (share unknown)" : `${+link.share.toFixed(2)}%`;
  if (link.type === "OFFICER_OF") return (link.role || "officer").replace(/_/g, " ");
  if (link.type === "REGISTERED_AT") return "registered at";
  return supplyEdgeLabel(link) || "record";
}

function roleAllows(needed) {
  return state.viewer && ROLES.indexOf(state.viewer.role) >= ROLES.indexOf(needed);
}

function isCycleEdge(source, target) {
  return state.cycles.some((c) =>
    c.ids.some((id, i) => id === source && c.ids[(i + 1) % c.ids.length] === target),
  );
}

function nodeReducer(node, data) {
  const out = { ...data };
  const lit = state.highlight.nodes.size > 0;
  if (lit && !state.highlight.nodes.has(node) && node !== state.selected) {
    out.color = "#d8d8d8";
    out.label = "";
  }
  if (state.owners.has(node)) out.label = `${data.label} · ${state.owners.get(node).toFixed(1)}%`;
  if (node === state.selected || data.restricted || data.sanctioned || state.highlight.nodes.has(node)) {
    out.forceLabel = true;
    out.zIndex = 2;
  }
  if (node === state.selected) out.highlighted = true;
  return out;
}

function edgeReducer(edge, data) {
  const out = { ...data };
  const [source, target] = graph.extremities(edge);
  if (state.highlight.edges.has(edge)) {
    out.color = HIGHLIGHT;
    out.size = 4;
    out.zIndex = 3;
  } else if (data.linkType === "OWNS" && isCycleEdge(source, target)) {
    out.color = CYCLE;
    out.size = 4;
    out.zIndex = 2;
  } else if (state.highlight.nodes.size > 0) {
    out.color = "#eeeeee";
    out.label = "";
  }
  return out;
}

// Marks drawn as shapes, not glyphs (no font needed): a yellow warning triangle for a restricted
// entity, a vermillion square with a white cross for a sanctioned one; cycles get a dashed ring.
function drawMarks(sigma, context) {
  const { width, height } = sigma.getDimensions();
  context.clearRect(0, 0, width, height);
  drawSupplyShapes(sigma, graph, context);
  for (const cycle of state.cycles) {
    const points = cycle.ids
      .filter((id) => graph.hasNode(id) && sigma.getNodeDisplayData(id))
      .map((id) => sigma.framedGraphToViewport(sigma.getNodeDisplayData(id)));
    if (points.length < 2) continue;
    const cx = points.reduce((s, p) => s + p.x, 0) / points.length;
    const cy = points.reduce((s, p) => s + p.y, 0) / points.length;
    context.save();
    context.setLineDash([8, 6]);
    context.lineWidth = 3;
    context.strokeStyle = CYCLE;
    context.fillStyle = "rgba(230, 159, 0, 0.08)";
    context.beginPath();
    points.forEach((p, i) => {
      // pushed out from the centre, so the outline surrounds the nodes rather than joining them
      const dx = p.x - cx;
      const dy = p.y - cy;
      const d = Math.hypot(dx, dy) || 1;
      const x = p.x + (dx / d) * 22;
      const y = p.y + (dy / d) * 22;
      if (i === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.closePath();
    context.fill();
    context.stroke();
    context.restore();
  }
  graph.forEachNode((node, attrs) => {
    if (!attrs.restricted && !attrs.sanctioned) return;
    const data = sigma.getNodeDisplayData(node);
    if (!data || data.hidden) return;
    const p = sigma.framedGraphToViewport(data);
    const r = sigma.scaleSize(data.size);
    if (attrs.restricted) {
      const x = p.x + r * 0.6;
      const y = p.y - r * 1.6;
      context.beginPath();
      context.moveTo(x, y - 7);
      context.lineTo(x + 7, y + 5);
      context.lineTo(x - 7, y + 5);
      context.closePath();
      context.fillStyle = RESTRICTED;
      context.strokeStyle = "#000";
      context.lineWidth = 1.2;
      context.fill();
      context.stroke();
      context.fillStyle = "#000";
      context.fillRect(x - 0.8, y - 3, 1.6, 4.5);
      context.fillRect(x - 0.8, y + 2.3, 1.6, 1.4);
    }
    if (attrs.sanctioned) {
      const x = p.x - r * 0.6 - 6;
      const y = p.y - r * 1.6 - 5;
      context.fillStyle = COLOURS.SANCTION;
      context.strokeStyle = "#000";
      context.lineWidth = 1;
      context.fillRect(x, y, 11, 11);
      context.strokeRect(x, y, 11, 11);
      context.strokeStyle = "#fff";
      context.lineWidth = 2;
      context.beginPath();
      context.moveTo(x + 3, y + 3);
      context.lineTo(x + 8, y + 8);
      context.moveTo(x + 8, y + 3);
      context.lineTo(x + 3, y + 8);
      context.stroke();
    }
  });
}

function installMarks(sigma) {
  sigma.createCanvasContext("marks", { afterLayer: "labels", style: { pointerEvents: "none" } });
  sigma.resize(true);
  const context = sigma.getCanvases().marks.getContext("2d");
  sigma.on("afterRender", () => drawMarks(sigma, context));
}

function makeRenderer() {
  renderer = new Sigma(graph, $("graph"), {
    renderEdgeLabels: true,
    defaultEdgeType: "arrow",
    edgeProgramClasses: { arrow: EdgeArrowProgram },
    labelFont: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", system-ui, sans-serif',
    edgeLabelFont: "system-ui, sans-serif",
    edgeLabelSize: 10,
    labelSize: 12,
    labelRenderedSizeThreshold: 7,
    zIndex: true,
    nodeReducer,
    edgeReducer,
    allowInvalidContainer: true,
    enableEdgeEvents: true,
  });
  installMarks(renderer);
  renderer.on("clickNode", ({ node }) => select(node));
  renderer.on("doubleClickNode", ({ node, event }) => {
    event.preventSigmaDefault();
    expand(node).catch(showError);
  });
  renderer.on("enterNode", ({ node, event }) => showTooltip(node, event));
  renderer.on("leaveNode", () => ($("tooltip").hidden = true));
  renderer.on("enterEdge", ({ edge, event }) => showEdgeTooltip(edge, event));
  renderer.on("leaveEdge", () => ($("tooltip").hidden = true));
  let dragged = null;
  renderer.on("downNode", ({ node }) => {
    dragged = node;
    renderer.getCamera().disable();
  });
  renderer.getMouseCaptor().on("mousemovebody", (event) => {
    if (!dragged) return;
    const pos = renderer.viewportToGraph(event);
    graph.mergeNodeAttributes(dragged, { x: pos.x, y: pos.y, fixed: true });
    state.pinned.add(dragged);
    event.preventSigmaDefault();
    event.original.preventDefault();
  });
  renderer.getMouseCaptor().on("mouseup", () => {
    dragged = null;
    renderer.getCamera().enable();
  });
}

function showTooltip(node, event) {
  const a = graph.getNodeAttributes(node);
  const lines = [`<strong>${escapeHtml(a.name)}</strong> <small>${a.kind.toLowerCase()} ${escapeHtml(node)}</small>`];
  if (a.sanctioned && a.kind !== "BATCH") lines.push("sanctioned: a record of its own is in force");
  if (a.measures && a.measures.length) lines.push(`restricted: ${a.measures.map(escapeHtml).join(", ")}`);
  if (a.kind === "SANCTION") {
    lines.push(escapeHtml(a.detail || ""));
    if (a.legalBasis) lines.push(`legal basis: ${escapeHtml(a.legalBasis)}`);
    lines.push(`from ${a.start || "?"} to ${a.end || "open"}`);
  }
  lines.push(...supplyNodeLines(a, escapeHtml));
  placeTooltip(lines, event);
}

// A movement's date, quantity, sender or transformer and event, on hover.
function showEdgeTooltip(edge, event) {
  const [source, target] = graph.extremities(edge);
  const lines = supplyEdgeLines(graph.getEdgeAttributes(edge), source, target, escapeHtml);
  if (lines.length) placeTooltip(lines, event);
}

function placeTooltip(lines, event) {
  const tip = $("tooltip");
  tip.innerHTML = lines.filter(Boolean).join("<br>");
  const original = event && event.original;
  tip.style.left = `${(original ? original.clientX : event.x) + 12}px`;
  tip.style.top = `${(original ? original.clientY : event.y) + 12}px`;
  tip.hidden = false;
}

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// -- the graph model -----------------------------------------------------------------------------

function nodeAttributes(n) {
  return {
    id: n.id,
    name: n.label,
    label: n.label,
    kind: n.kind,
    sanctioned: !!n.sanctioned,
    restricted: !!n.restricted,
    measures: n.measures || [],
    status: n.status,
    detail: n.detail,
    legalBasis: n.legalBasis,
    start: n.start,
    end: n.end,
    color: COLOURS[n.kind] || "#666",
  };
}

function place(parent, index, count) {
  // a ring for a few neighbours, a sunflower disc for many: never on top of each other
  const p = graph.hasNode(parent) ? graph.getNodeAttributes(parent) : { x: 0, y: 0 };
  if (count <= 16) {
    const angle = (2 * Math.PI * index) / count + 0.3;
    return { x: p.x + 30 * Math.cos(angle), y: p.y + 30 * Math.sin(angle) };
  }
  const angle = index * 2.39996;
  const radius = 12 * Math.sqrt(index + 4);
  return { x: p.x + radius * Math.cos(angle), y: p.y + radius * Math.sin(angle) };
}

function upsertNode(n, parent, index = 0, count = 1) {
  const attrs = nodeAttributes(n);
  if (graph.hasNode(n.id)) {
    graph.mergeNodeAttributes(n.id, { ...attrs, unmarked: false });
  } else {
    graph.addNode(n.id, { ...attrs, ...place(parent, index, count) });
  }
  graph.setNodeAttribute(n.id, "size", nodeSize(graph.getNodeAttributes(n.id)));
}

function synthetic(source, target, type) {
  return graph
    .edges(source, target)
    .filter((e) => graph.getEdgeAttribute(e, "synthetic") && graph.getEdgeAttribute(e, "linkType") === type);
}

function upsertLink(link) {
  if (!graph.hasNode(link.source) || !graph.hasNode(link.target)) return;
  for (const e of synthetic(link.source, link.target, link.type)) graph.dropEdge(e);
  const attrs = {
    linkType: link.type,
    role: link.role,
    share: link.share,
    start: link.start,
    end: link.end,
    relation: link.relation,
    label: edgeLabel(link),
    color: EDGE_COLOURS[link.type] || "#ccc",
    size: link.type === "OWNS" && link.share ? 1.5 + link.share / 40 : 1.5,
    ...supplyEdgeAttributes(link),
  };
  if (graph.hasEdge(link.id)) graph.mergeEdgeAttributes(link.id, attrs);
  else graph.addDirectedEdgeWithKey(link.id, link.source, link.target, attrs);
}

// A link from an explanation (cycle, path, ownership tree) carries no key: it joins the link
// already drawn between the same nodes, or is drawn as a stand-in until the real one arrives.
function pathLink(link) {
  const found = graph
    .edges(link.from, link.to)
    .find(
      (e) =>
        graph.getEdgeAttribute(e, "linkType") === link.type &&
        (link.role == null || graph.getEdgeAttribute(e, "role") === link.role),
    );
  if (found) return found;
  const key = `${link.type}|${link.from}|${link.to}|${link.role || ""}|path`;
  if (!graph.hasEdge(key)) {
    graph.addDirectedEdgeWithKey(key, link.from, link.to, {
      linkType: link.type,
      role: link.role,
      share: link.share,
      start: link.start,
      end: link.end,
      synthetic: true,
      label: edgeLabel(link),
      color: EDGE_COLOURS[link.type] || "#ccc",
      size: 2,
    });
  }
  return key;
}

function pathNode(n, near) {
  if (!graph.hasNode(n.id)) {
    upsertNode(
      { id: n.id, label: n.name, kind: n.kind || "ADDRESS", measures: [] },
      near,
      graph.order % 12,
      12,
    );
    graph.setNodeAttribute(n.id, "unmarked", true);
  }
}

/** Mark nodes drawn from an explanation (sanctioned, restricted): it names them only. */
async function markNodes(ids) {
  const todo = [...ids].filter(
    (id) => graph.hasNode(id) && graph.getNodeAttribute(id, "unmarked") && roleAllows("investigator"),
  );
  for (let i = 0; i < todo.length; i += 25) {
    const chunk = todo.slice(i, i + 25);
    const variables = { asOf: state.asOf };
    chunk.forEach((id, j) => (variables[`i${j}`] = id));
    const data = await gql(marksQuery(chunk.length), variables);
    chunk.forEach((id, j) => {
      const center = data[`n${j}`].center;
      if (graph.hasNode(id)) {
        graph.mergeNodeAttributes(id, { ...nodeAttributes(center), unmarked: false });
        graph.setNodeAttribute(id, "size", nodeSize(graph.getNodeAttributes(id)));
      }
    });
  }
}

function addPath(path, near) {
  const nodes = new Set();
  const edges = new Set();
  const ids = path.nodes.map((n) => n.id);
  for (const n of path.nodes) pathNode(n, near);
  for (const link of path.links) {
    // an address on the way is not an Entity: it comes as a link end only
    for (const id of [link.from, link.to]) {
      if (!graph.hasNode(id)) pathNode({ id, name: id, kind: "ADDRESS" }, near);
      nodes.add(id);
    }
    edges.add(pathLink(link));
  }
  ids.forEach((id) => nodes.add(id));
  nodes.forEach((id) => state.anchored.add(id));
  return { nodes, edges };
}

// -- loading -------------------------------------------------------------------------------------

async function busy(work) {
  state.pending += 1;
  setStatus("loading…");
  try {
    return await work();
  } finally {
    state.pending -= 1;
    if (!state.pending) setStatus(`${graph.order} nodes, ${graph.size} links`);
  }
}

async function fetchPage(id, after) {
  const data = await gql(Q.neighbourhood, { id, asOf: state.asOf, first: PAGE, after });
  return data.neighbourhood;
}

function applyPage(id, page) {
  if (page.center) upsertNode(page.center, id);
  const fresh = page.nodes.filter((n) => !graph.hasNode(n.id));
  page.nodes.forEach((n) => {
    const index = fresh.indexOf(n);
    upsertNode(n, id, index < 0 ? 0 : index, Math.max(fresh.length, 1));
    if (n.id !== id) {
      if (!state.addedBy.has(n.id)) state.addedBy.set(n.id, new Set());
      state.addedBy.get(n.id).add(id);
    }
  });
  page.links.forEach(upsertLink);
  return fresh.length;
}

function rememberPage(id, page, pages) {
  state.expanded.set(id, {
    pages,
    hasNext: page.hasNextPage,
    cursor: page.endCursor,
    more: page.more,
    total: page.totalCount,
  });
}

/** Expand ``id`` one page further (``{all: true}``: every page). Resolves to the nodes added. */
async function expand(id, options = {}) {
  return busy(async () => {
    const started = performance.now();
    let added = 0;
    let known = state.expanded.get(id);
    if (known && !known.hasNext && !options.all) return 0;
    let next = fetchPage(id, known ? known.cursor : null);
    for (;;) {
      const page = await next;
      // the next page is asked for before this one is drawn: the server works while we do
      const more = options.all && page.hasNextPage;
      if (more) next = fetchPage(id, page.endCursor);
      added += applyPage(id, page);
      rememberPage(id, page, (known ? known.pages : 0) + 1);
      known = state.expanded.get(id);
      if (!more) break;
    }
    if (graph.order <= 400) layout(60);
    await drawn();
    state.timings.lastExpand = performance.now() - started;
    if (state.selected === id) renderPanel();
    updateUrl();
    return added;
  });
}

/** Remove what expanding ``id`` brought in, unless pinned, expanded or brought by another. */
function collapse(id) {
  state.expanded.delete(id);
  for (const [node, by] of [...state.addedBy]) {
    by.delete(id);
    if (by.size === 0) {
      state.addedBy.delete(node);
      const kept = state.pinned.has(node) || state.anchored.has(node) || state.expanded.has(node);
      if (!kept && node !== state.root) {
        if (graph.hasNode(node)) graph.dropNode(node);
      }
    }
  }
  if (state.selected && !graph.hasNode(state.selected)) state.selected = null;
  renderPanel();
  updateUrl();
  setStatus(`${graph.order} nodes, ${graph.size} links`);
}

function pin(id) {
  if (state.pinned.has(id)) {
    state.pinned.delete(id);
    graph.setNodeAttribute(id, "fixed", false);
  } else {
    state.pinned.add(id);
    graph.setNodeAttribute(id, "fixed", true);
  }
  renderPanel();
  updateUrl();
}

function layout(iterations) {
  if (graph.order < 2) return;
  const settings = forceAtlas2.inferSettings(graph);
  forceAtlas2.assign(graph, { iterations, settings: { ...settings, barnesHutOptimize: graph.order > 300 } });
}

function relayout() {
  state.owners.clear();
  for (const id of [...graph.nodes()]) {
    if (!state.pinned.has(id)) graph.setNodeAttribute(id, "fixed", false);
  }
  layout(Math.max(20, Math.min(300, Math.round(200000 / Math.max(graph.order, 1)))));
}

function drawn() {
  // resolves after sigma has drawn the current graph (the next animation frame's render)
  return new Promise((resolve) => {
    renderer.once("afterRender", resolve);
    renderer.scheduleRefresh();
  });
}

async function loadCycles(id) {
  if (!roleAllows("investigator")) return;
  const node = graph.hasNode(id) ? graph.getNodeAttributes(id) : null;
  if (!node || node.kind !== "COMPANY") return;
  const data = await gql(Q.cycles, { id, asOf: state.asOf });
  for (const cycle of data.ownershipCycles) {
    addPath(cycle.path, id);
    const ids = cycle.path.nodes.slice(0, -1).map((n) => n.id);
    if (!state.cycles.some((c) => c.ids.join() === ids.join())) {
      state.cycles.push({ ids, share: cycle.share, length: cycle.length });
    }
  }
  await markNodes(graph.nodes());
}

// The first page of the entity in the address, asked for while the key is checked: a first draw
// one round trip sooner. An agency key gets FORBIDDEN here, which open() never looks at.
let prefetched = null;

function prefetch(id) {
  const promise = fetchPage(id, null);
  promise.catch(() => {});
  prefetched = { id, asOf: state.asOf, promise };
}

function takePrefetch(id) {
  const found = prefetched;
  prefetched = null;
  return found && found.id === id && found.asOf === state.asOf ? found.promise : null;
}

/** Open ``id``: a fresh view around it (its neighbourhood and any ownership cycle through it). */
async function open(id) {
  return busy(async () => {
    graph.clear();
    Object.assign(state, { root: id, selected: id, cycles: [] });
    state.expanded.clear();
    state.addedBy.clear();
    state.pinned.clear();
    state.anchored.clear();
    state.owners.clear();
    clearHighlight();
    if (roleAllows("investigator")) {
      const page = await (takePrefetch(id) || fetchPage(id, null));
      upsertNode(page.center, null);
      graph.mergeNodeAttributes(id, { x: 0, y: 0 });
      applyPage(id, page);
      rememberPage(id, page, 1);
      layout(80);
      await drawn();
      if (state.timings.firstDraw == null) state.timings.firstDraw = performance.now();
      await loadCycles(id);
    } else {
      const data = await gql(Q.entity, { id });
      if (!data.entity) throw new ApiError(`no company or person has id ${id}`, "NOT_FOUND");
      upsertNode({ id, label: data.entity.name, kind: data.entity.kind, measures: [] }, null);
      graph.mergeNodeAttributes(id, { x: 0, y: 0 });
      showError(
        `Your key's role (${state.viewer.role}) shows entities and their credit reports; ` +
          "their links (owners, officers, addresses) need an investigator key.",
      );
    }
    await drawn();
    if (state.timings.firstDraw == null) state.timings.firstDraw = performance.now();
    renderPanel();
    updateUrl();
    // the report of the entity opened (audited on the server like any credit report read)
    busy(() => loadReport(id)).catch(showError);
  });
}

/** Show the view at ``day``: every expanded node is read again as of then. */
async function setAsOf(day) {
  state.asOf = day;
  syncDateInputs();
  if (!state.root) return;
  return busy(async () => {
    if (!roleAllows("investigator")) {
      renderPanel();
      return;
    }
    const pages = new Map();
    for (const [id, info] of state.expanded) {
      const got = [];
      let cursor = null;
      for (let i = 0; i < info.pages; i += 1) {
        let page;
        try {
          page = await fetchPage(id, cursor);
        } catch (error) {
          if (error.code === "NOT_FOUND") break;
          throw error;
        }
        got.push(page);
        cursor = page.endCursor;
        if (!page.hasNextPage) break;
      }
      pages.set(id, got);
    }
    const keepNodes = new Set([state.root, ...state.pinned]);
    const keepEdges = new Set();
    for (const got of pages.values()) {
      for (const page of got) {
        keepNodes.add(page.center.id);
        page.nodes.forEach((n) => keepNodes.add(n.id));
        page.links.forEach((l) => keepEdges.add(l.id));
      }
    }
    // what ended (or has not started) by the new date goes; what started comes
    graph.forEachEdge((edge, attrs) => {
      if (!keepEdges.has(edge) && !attrs.synthetic) graph.dropEdge(edge);
    });
    graph.forEachEdge((edge, attrs) => {
      if (attrs.synthetic) graph.dropEdge(edge);
    });
    for (const node of [...graph.nodes()]) {
      if (!keepNodes.has(node)) graph.dropNode(node);
    }
    state.addedBy.clear();
    state.anchored.clear();
    state.cycles = [];
    clearHighlight();
    for (const [id, got] of pages) {
      got.forEach((page, i) => {
        applyPage(id, page);
        rememberPage(id, page, i + 1);
      });
    }
    await loadCycles(state.root);
    await drawn();
    renderPanel();
    updateUrl();
    const kind = state.selected && graph.hasNode(state.selected) && graph.getNodeAttribute(state.selected, "kind");
    if (kind === "COMPANY" || kind === "PERSON") await loadReport(state.selected);
  });
}

// -- explanations: reports, owners, paths ------------------------------------------------------------

function clearHighlight() {
  state.highlight = { nodes: new Set(), edges: new Set() };
}

function highlight(found) {
  state.highlight = found;
  renderer && renderer.refresh();
}

async function showOwners(id) {
  return busy(async () => {
    const data = await gql(Q.owners, { id, asOf: state.asOf });
    const nodes = new Set([id]);
    const edges = new Set();
    const depth = new Map([[id, 0]]);
    const child = new Map(); // a holder -> the next entity down its path, for the row order
    state.owners.clear();
    for (const owner of data.beneficialOwners) {
      state.owners.set(owner.person.id, owner.effectiveShare);
      for (const path of owner.paths) {
        const found = addPath(path, id);
        found.nodes.forEach((n) => nodes.add(n));
        found.edges.forEach((e) => edges.add(e));
        // walking order runs from the person down to the company
        const ids = path.nodes.map((n) => n.id);
        ids.forEach((n, i) => depth.set(n, Math.max(depth.get(n) || 0, ids.length - 1 - i)));
        ids.slice(0, -1).forEach((n, i) => child.has(n) || child.set(n, ids[i + 1]));
      }
    }
    // the ownership tree: the company at the bottom, each level of holders one row up
    const base = graph.getNodeAttributes(id);
    const rows = new Map();
    for (const [n, d] of depth) {
      if (!rows.has(d)) rows.set(d, []);
      rows.get(d).push(n);
    }
    for (const d of [...rows.keys()].sort((x, y) => x - y)) {
      const row = rows.get(d);
      // each holder above the entity it holds, so the tree's links do not cross
      const below = (n) => (child.has(n) ? graph.getNodeAttribute(child.get(n), "x") : 0);
      row.sort((p, q) => below(p) - below(q) || (p < q ? -1 : 1));
      row.forEach((n, i) => {
        graph.mergeNodeAttributes(n, {
          x: base.x + (i - (row.length - 1) / 2) * 40,
          y: base.y + d * 40,
          fixed: true,
        });
      });
    }
    await markNodes(nodes);
    highlight({ nodes, edges });
    renderPanel(data.beneficialOwners);
    await drawn();
  });
}

async function showPath(fromId, toId) {
  return busy(async () => {
    const data = await gql(Q.paths, { from: fromId, to: toId, asOf: state.asOf });
    if (!data.paths.length) throw new ApiError(`no path from ${fromId} to ${toId} as of ${state.asOf}`, "NOT_FOUND");
    const nodes = new Set();
    const edges = new Set();
    for (const path of data.paths) {
      const found = addPath(path, fromId);
      found.nodes.forEach((n) => nodes.add(n));
      found.edges.forEach((e) => edges.add(e));
    }
    await markNodes(nodes);
    highlight({ nodes, edges });
    await drawn();
    return data.paths.length;
  });
}

// -- the side panel ---------------------------------------------------------------------------------

let reportFor = null;

function select(id) {
  state.selected = id;
  renderPanel();
  renderer.refresh();
  const kind = graph.getNodeAttribute(id, "kind");
  if (kind === "COMPANY" || kind === "PERSON") busy(() => loadReport(id)).catch(showError);
}

async function loadReport(id) {
  // every person opened is audited by the server, as any credit report read
  const data = await gql(Q.report, { id, asOf: state.asOf });
  reportFor = { id, asOf: state.asOf, report: data.creditReport };
  if (state.selected === id) renderPanel();
}

function button(text, testid, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (testid) b.dataset.testid = testid;
  b.addEventListener("click", () => Promise.resolve(action()).catch(showError));
  return b;
}

function renderPanel(owners) {
  const panel = $("panel");
  panel.replaceChildren();
  const id = state.selected;
  if (!id || !graph.hasNode(id)) {
    panel.innerHTML = '<p class="hint">Click a node to see it; double-click to expand it.</p>';
    return;
  }
  const a = graph.getNodeAttributes(id);
  const head = document.createElement("div");
  head.innerHTML =
    `<h2 data-testid="panel-title">${escapeHtml(a.name)}</h2><div class="id">${a.kind.toLowerCase()} ${escapeHtml(id)}</div>` +
    `<div class="flags">${a.sanctioned ? '<span class="flag-sanctioned">× sanctioned</span>' : ""}` +
    `${a.restricted ? '<span class="flag-restricted">! restricted</span>' : ""}</div>` +
    (a.detail ? `<p>${escapeHtml(a.detail)}</p>` : "") +
    (a.legalBasis ? `<p class="basis">legal basis: ${escapeHtml(a.legalBasis)}</p>` : "");
  panel.append(head);

  const actions = document.createElement("div");
  actions.className = "actions";
  if (roleAllows("investigator") && a.kind !== "SANCTION") {
    actions.append(button("Expand", "expand", () => expand(id)));
    if (state.expanded.has(id)) actions.append(button("Collapse", "collapse", () => collapse(id)));
  }
  actions.append(button(state.pinned.has(id) ? "Unpin" : "Pin", "pin", () => pin(id)));
  if (roleAllows("investigator") && a.kind === "COMPANY") {
    actions.append(button("Beneficial owners", "owners", () => showOwners(id)));
  }
  if (state.highlight.nodes.size) {
    actions.append(button("Clear highlight", "clear-highlight", () => highlight({ nodes: new Set(), edges: new Set() })));
  }
  panel.append(actions);

  const info = state.expanded.get(id);
  if (info && info.hasNext) {
    const more = document.createElement("div");
    more.className = "actions";
    for (const m of info.more) {
      more.append(button(`${m.count} more ${m.relation}`, "more", () => expand(id)));
    }
    panel.append(more);
  }

  if (roleAllows("investigator") && ["COMPANY", "PERSON", "ADDRESS"].includes(a.kind)) {
    const form = document.createElement("form");
    form.className = "actions";
    form.innerHTML = '<input data-testid="path-to" placeholder="path to id…" size="18" /><button type="submit" data-testid="find-path">Path</button>';
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const to = form.querySelector("input").value.trim();
      if (to) showPath(id, to).catch(showError);
    });
    panel.append(form);
  }

  if (owners) {
    const h = document.createElement("h3");
    h.textContent = "Beneficial owners";
    const list = document.createElement("ul");
    list.dataset.testid = "owners-list";
    for (const o of owners) {
      const li = document.createElement("li");
      li.textContent = `${o.person.name} (${o.person.id}): ${o.effectiveShare.toFixed(2)}%${o.controls ? ", controls" : ""}`;
      list.append(li);
    }
    if (!owners.length) list.innerHTML = "<li>nobody above the threshold</li>";
    panel.append(h, list);
  }

  if (reportFor && reportFor.id === id && reportFor.asOf === state.asOf) {
    const r = reportFor.report;
    const h = document.createElement("h3");
    h.textContent = `Credit report: ${r.score} (${r.grade})`;
    panel.append(h);
    if (r.sanctions.length) {
      const list = document.createElement("ul");
      for (const s of r.sanctions) {
        const li = document.createElement("li");
        li.innerHTML = `<strong>${escapeHtml(s.list)}</strong> ${escapeHtml(s.id)} (${escapeHtml(s.status)}${s.disputed ? ", disputed" : ""}) ${escapeHtml(s.start || "")}–${escapeHtml(s.end || "")}<div class="basis">${escapeHtml(s.authority || "")} ${escapeHtml(s.legalBasis || "")}</div>`;
        list.append(li);
      }
      panel.append(list);
    }
    const h2 = document.createElement("h3");
    h2.textContent = r.restrictions.length ? "Restrictions" : "No restrictions";
    panel.append(h2);
    const list = document.createElement("ul");
    list.dataset.testid = "restrictions";
    for (const x of r.restrictions) {
      const li = document.createElement("li");
      li.innerHTML = `<strong>${escapeHtml(x.measure)}</strong> by ${escapeHtml(x.rule)} from ${escapeHtml(x.source.id)} (${escapeHtml(x.source.list)})${x.disputed ? ", disputed" : ""}<div class="basis">${escapeHtml(x.legalBasis)}</div>`;
      li.append(button("Show path", "show-path", () => busy(async () => {
        const found = addPath(x.path, id);
        await markNodes(found.nodes);
        highlight(found);
      })));
      list.append(li);
    }
    panel.append(list);
  }
}

// -- page chrome ---------------------------------------------------------------------------------------

function setStatus(text) {
  $("status").textContent = text;
}

function showError(error) {
  const box = $("error");
  box.textContent = typeof error === "string" ? error : error.message || String(error);
  box.hidden = false;
  if (error && error.code === "UNAUTHENTICATED") {
    storeKey(null);
    showConnected(false);
  }
}

function hideError() {
  $("error").hidden = true;
}

function syncDateInputs() {
  const ms = Date.parse(`${state.asOf}T00:00:00Z`);
  $("as-of").value = String(Math.round((ms - FIRST_DAY) / DAY));
  $("as-of-date").value = state.asOf;
  $("as-of-text").textContent = state.asOf;
}

function updateUrl() {
  const url = viewLink();
  history.replaceState(null, "", url);
}

function viewLink() {
  const url = new URL(location.href);
  url.search = "";
  if (state.root) url.searchParams.set("id", state.root);
  url.searchParams.set("asOf", state.asOf);
  const more = [...state.expanded.keys()].filter((id) => id !== state.root);
  if (more.length) url.searchParams.set("expand", more.join(","));
  if (state.pinned.size) url.searchParams.set("pin", [...state.pinned].join(","));
  return url.toString();
}

async function copyLink() {
  const link = viewLink();
  const out = $("link-out");
  out.value = link;
  out.hidden = false;
  out.select();
  try {
    await navigator.clipboard.writeText(link);
    setStatus("link copied");
  } catch {
    setStatus("link selected: copy it with Ctrl+C");
  }
  return link;
}

async function exportPng() {
  const canvas = await drawOnCanvas(renderer, {
    backgroundColor: "#ffffff",
    withTempRenderer: (tmp) => {
      installMarks(tmp);
      tmp.refresh();
    },
  });
  return canvas.toDataURL("image/png");
}

function showConnected(on) {
  $("connect-form").hidden = on;
  $("who").hidden = !on;
  for (const id of ["search", "as-of", "as-of-date", "relayout", "export-png", "export-graphml", "export-gexf", "copy-link"]) {
    $(id).disabled = !on;
  }
  if (on) $("who-text").textContent = `${state.viewer.name} (${state.viewer.role})`;
}

async function connect(key) {
  storeKey(key);
  try {
    const data = await gql(Q.viewer);
    state.viewer = data.viewer;
  } catch (error) {
    storeKey(null);
    state.viewer = null;
    showConnected(false);
    throw error;
  }
  hideError();
  showConnected(true);
  return state.viewer;
}

async function search(text) {
  const list = $("results");
  const found = new Map();
  for (const q of await variants(text)) {
    if (!q) continue;
    const data = await gql(Q.search, { q });
    for (const e of data.search.edges) found.set(e.node.id, e.node);
  }
  list.replaceChildren();
  for (const node of found.values()) {
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.dataset.testid = "result";
    li.dataset.id = node.id;
    li.innerHTML = `${escapeHtml(node.name)}<small>${node.kind.toLowerCase()} ${escapeHtml(node.id)}</small>`;
    const go = () => {
      list.hidden = true;
      open(node.id).catch(showError);
    };
    li.addEventListener("click", go);
    li.addEventListener("keydown", (event) => event.key === "Enter" && go());
    list.append(li);
  }
  if (!found.size) list.innerHTML = "<li>nothing found</li>";
  list.hidden = false;
  return [...found.values()];
}

function wire() {
  $("connect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) return showError("paste an API key (creditnet keys add prints one)");
    connect(key)
      .then(() => {
        $("api-key").value = "";
        return startFromUrl();
      })
      .catch(showError);
  });
  $("disconnect").addEventListener("click", () => {
    storeKey(null);
    state.viewer = null;
    showConnected(false);
  });
  let timer = null;
  $("search").addEventListener("input", (event) => {
    clearTimeout(timer);
    const text = event.target.value;
    if (!text.trim()) {
      $("results").hidden = true;
      return;
    }
    timer = setTimeout(() => search(text).catch(showError), 250);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search").value).catch(showError);
  });
  const last = Math.round((Date.now() + 2 * 365 * DAY - FIRST_DAY) / DAY);
  $("as-of").max = String(last);
  $("as-of").addEventListener("input", () => {
    $("as-of-text").textContent = iso(FIRST_DAY + Number($("as-of").value) * DAY);
  });
  $("as-of").addEventListener("change", () => {
    setAsOf(iso(FIRST_DAY + Number($("as-of").value) * DAY)).catch(showError);
  });
  $("as-of-date").addEventListener("change", () => {
    if ($("as-of-date").value) setAsOf($("as-of-date").value).catch(showError);
  });
  $("relayout").addEventListener("click", () => relayout());
  $("export-png").addEventListener("click", () =>
    exportPng()
      .then((url) => fetch(url).then((r) => r.blob()))
      .then((blob) => download(`creditnet-${state.root || "view"}-${state.asOf}.png`, blob))
      .catch(showError),
  );
  $("export-graphml").addEventListener("click", () =>
    download(`creditnet-${state.root || "view"}-${state.asOf}.graphml`, explorer.exportGraphML(), "application/graphml+xml"),
  );
  $("export-gexf").addEventListener("click", () =>
    download(`creditnet-${state.root || "view"}-${state.asOf}.gexf`, explorer.exportGEXF(), "application/gexf+xml"),
  );
  $("copy-link").addEventListener("click", () => copyLink().catch(showError));
  $("error").addEventListener("click", hideError);
}

async function startFromUrl() {
  const params = new URLSearchParams(location.search);
  const asOf = params.get("asOf");
  if (asOf && /^\d{4}-\d{2}-\d{2}$/.test(asOf)) state.asOf = asOf;
  syncDateInputs();
  const id = params.get("id");
  if (!id) return;
  await open(id);
  for (const more of (params.get("expand") || "").split(",").filter(Boolean)) {
    if (graph.hasNode(more)) await expand(more);
  }
  for (const p of (params.get("pin") || "").split(",").filter(Boolean)) {
    if (graph.hasNode(p) && !state.pinned.has(p)) pin(p);
  }
}

const explorer = {
  ready: false,
  nodes: () =>
    graph.mapNodes((id, a) => ({ id, kind: a.kind, label: a.name, restricted: !!a.restricted, sanctioned: !!a.sanctioned })),
  edges: () =>
    graph.mapEdges((id, a, source, target) => ({
      id,
      source,
      target,
      type: a.linkType,
      share: a.share ?? null,
      role: a.role ?? null,
      start: a.start ?? null,
      end: a.end ?? null,
      quantity: a.quantity ?? null,
    })),
  expand,
  collapse,
  pin,
  open,
  setAsOf,
  search,
  showOwners,
  showPath,
  relayout,
  select,
  asOf: () => state.asOf,
  cycles: () => state.cycles.map((c) => [...c.ids]),
  highlighted: () => ({ nodes: [...state.highlight.nodes], edges: [...state.highlight.edges] }),
  expanded: () => [...state.expanded.keys()],
  pending: () => state.pending,
  timings: state.timings,
  exportGraphML: () => toGraphML(graph, { id: state.root, asOf: state.asOf }),
  exportGEXF: () => toGEXF(graph, { id: state.root, asOf: state.asOf }),
  exportPng,
  link: viewLink,
  // for tests: where a node is drawn (CSS pixels of the graph's container), the tooltip shown
  viewport: (id) => {
    const data = graph.hasNode(id) && renderer.getNodeDisplayData(id);
    return data ? renderer.framedGraphToViewport(data) : null;
  },
  tooltip: () => ($("tooltip").hidden ? null : $("tooltip").innerText),
};
window.explorer = explorer;

async function main() {
  wire();
  syncDateInputs();
  makeRenderer();
  const key = storedKey();
  if (key) {
    const params = new URLSearchParams(location.search);
    const asOf = params.get("asOf");
    if (asOf && /^\d{4}-\d{2}-\d{2}$/.test(asOf)) state.asOf = asOf;
    if (params.get("id")) prefetch(params.get("id"));
    try {
      await connect(key);
      await startFromUrl();
    } catch (error) {
      showError(error);
    }
  }
  explorer.ready = true;
}

main();
