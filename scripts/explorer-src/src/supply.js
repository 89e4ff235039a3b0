// Goods in the explorer (spec/TRACEABILITY.md): products and batches, and the movements between
// companies and batches (PRODUCED, SHIPPED, TRANSFORMED_INTO; PRODUCT_OF joins a batch to its
// product). Batches are drawn as diamonds and products as squares over sigma's circles (on the
// marks layer: no WebGL program of our own), so that goods differ from entities by shape as
// well as colour; each movement has its own colour, and its date and quantity in its label and
// tooltip.

export const SUPPLY_COLOURS = {
  PRODUCT: "#7b3294",
  BATCH: "#e66101",
};

export const SUPPLY_EDGE_COLOURS = {
  PRODUCED: "#5e3c99",
  SHIPPED: "#fdb863",
  TRANSFORMED_INTO: "#b2182b",
  PRODUCT_OF: "#c2a5cf",
};

const quantity = (q) => (q == null ? "" : ` ×${+(+q).toFixed(3)}`);

/** The label of a movement, or null for a link that is not one. */
export function supplyEdgeLabel(link) {
  if (link.type === "PRODUCED") return `produced ${link.start || ""}`;
  if (link.type === "SHIPPED") return `shipped ${link.start || ""}${quantity(link.quantity)}`;
  if (link.type === "TRANSFORMED_INTO") return `into ${link.start || ""}`;
  if (link.type === "PRODUCT_OF") return "lot of";
  return null;
}

/** Extra edge attributes a movement carries (kept for tooltips, exports and tests). */
export function supplyEdgeAttributes(link) {
  return {
    quantity: link.quantity ?? null,
    fromId: link.fromId ?? null,
    byId: link.byId ?? null,
    eventId: link.eventId ?? null,
  };
}

/** Tooltip lines of a product or batch node (escaped by ``escape``); [] for other kinds. */
export function supplyNodeLines(a, escape) {
  if (a.kind === "PRODUCT") return [a.detail ? `category: ${escape(a.detail)}` : ""];
  if (a.kind !== "BATCH") return [];
  return [
    a.detail ? `product · quantity: ${escape(a.detail)}` : "",
    `produced ${a.start || "?"}, expires ${a.end || "?"}`,
    a.sanctioned ? "named by a product-safety record in force" : "",
  ];
}

/** Tooltip lines of a movement edge (escaped by ``escape``); [] for other link types. */
export function supplyEdgeLines(e, source, target, escape) {
  if (!(e.linkType in SUPPLY_EDGE_COLOURS)) return [];
  const lines = [`<strong>${escape(e.linkType)}</strong> ${escape(source)} → ${escape(target)}`];
  if (e.start) lines.push(`date: ${escape(e.start)}`);
  if (e.quantity != null) lines.push(`quantity: ${escape(e.quantity)}`);
  if (e.fromId) lines.push(`shipped by ${escape(e.fromId)}`);
  if (e.byId) lines.push(`transformed by ${escape(e.byId)}`);
  if (e.eventId) lines.push(`event ${escape(e.eventId)}`);
  return lines;
}

/** Draw the diamond of every batch and the square of every product on ``context``. */
export function drawSupplyShapes(sigma, graph, context) {
  graph.forEachNode((node, attrs) => {
    if (attrs.kind !== "BATCH" && attrs.kind !== "PRODUCT") return;
    const data = sigma.getNodeDisplayData(node);
    if (!data || data.hidden) return;
    const p = sigma.framedGraphToViewport(data);
    const r = sigma.scaleSize(data.size) * 1.45;
    context.beginPath();
    if (attrs.kind === "BATCH") {
      context.moveTo(p.x, p.y - r);
      context.lineTo(p.x + r, p.y);
      context.lineTo(p.x, p.y + r);
      context.lineTo(p.x - r, p.y);
    } else {
      const s = r * 0.8;
      context.rect(p.x - s, p.y - s, 2 * s, 2 * s);
    }
    context.closePath();
    context.fillStyle = data.color;
    context.strokeStyle = data.highlighted ? "#000" : "#fff";
    context.lineWidth = 1.5;
    context.fill();
    context.stroke();
  });
}
