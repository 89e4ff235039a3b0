// GraphML and GEXF of the current view, written here (a few lines) rather than bundling a
// serialiser library for each.

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const esc = (value) => String(value).replace(/[&<>"']/g, (c) => ESC[c]);

const NODE_KEYS = ["label", "kind", "sanctioned", "restricted", "measures"];
const EDGE_KEYS = ["type", "role", "share", "start", "end"];

function value(attrs, key) {
  // sigma reads an edge's "type" as its drawing program, so the link type is kept as linkType
  const v = attrs[key === "type" ? "linkType" : key];
  if (v === null || v === undefined) return null;
  return Array.isArray(v) ? v.join(" ") : v;
}

export function toGraphML(graph, meta) {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">');
  for (const k of NODE_KEYS) out.push(`<key id="${k}" for="node" attr.name="${k}" attr.type="string"/>`);
  for (const k of EDGE_KEYS) out.push(`<key id="e_${k}" for="edge" attr.name="${k}" attr.type="string"/>`);
  out.push('<key id="x" for="node" attr.name="x" attr.type="double"/>');
  out.push('<key id="y" for="node" attr.name="y" attr.type="double"/>');
  out.push(`<graph id="${esc(meta.id || "view")}" edgedefault="directed">`);
  out.push(`<desc>creditnet explorer view as of ${esc(meta.asOf)}</desc>`);
  graph.forEachNode((node, a) => {
    out.push(`<node id="${esc(node)}">`);
    for (const k of NODE_KEYS) {
      const v = value(a, k);
      if (v !== null) out.push(`<data key="${k}">${esc(v)}</data>`);
    }
    out.push(`<data key="x">${a.x}</data><data key="y">${a.y}</data></node>`);
  });
  graph.forEachEdge((edge, a, source, target) => {
    out.push(`<edge id="${esc(edge)}" source="${esc(source)}" target="${esc(target)}">`);
    for (const k of EDGE_KEYS) {
      const v = value(a, k);
      if (v !== null) out.push(`<data key="e_${k}">${esc(v)}</data>`);
    }
    out.push("</edge>");
  });
  out.push("</graph></graphml>");
  return out.join("\n");
}

export function toGEXF(graph, meta) {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push('<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" version="1.3">');
  out.push(`<meta><creator>creditnet explorer</creator><description>view as of ${esc(meta.asOf)}</description></meta>`);
  out.push('<graph defaultedgetype="directed" mode="static">');
  out.push('<attributes class="node">');
  NODE_KEYS.slice(1).forEach((k, i) => out.push(`<attribute id="${i}" title="${k}" type="string"/>`));
  out.push('</attributes><attributes class="edge">');
  EDGE_KEYS.forEach((k, i) => out.push(`<attribute id="${i}" title="${k}" type="string"/>`));
  out.push("</attributes><nodes>");
  graph.forEachNode((node, a) => {
    out.push(`<node id="${esc(node)}" label="${esc(a.label || node)}"><attvalues>`);
    NODE_KEYS.slice(1).forEach((k, i) => {
      const v = value(a, k);
      if (v !== null) out.push(`<attvalue for="${i}" value="${esc(v)}"/>`);
    });
    out.push(`</attvalues><viz:position x="${a.x}" y="${a.y}" z="0"/></node>`);
  });
  out.push("</nodes><edges>");
  graph.forEachEdge((edge, a, source, target) => {
    out.push(`<edge id="${esc(edge)}" source="${esc(source)}" target="${esc(target)}"><attvalues>`);
    EDGE_KEYS.forEach((k, i) => {
      const v = value(a, k);
      if (v !== null) out.push(`<attvalue for="${i}" value="${esc(v)}"/>`);
    });
    out.push("</attvalues></edge>");
  });
  out.push("</edges></graph></gexf>");
  return out.join("\n");
}

export function download(name, text, type) {
  const blob = text instanceof Blob ? text : new Blob([text], { type });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
