// The GraphQL client of the explorer: the API at /graphql, the key from sessionStorage only.

const KEY_SLOT = "creditnet.apiKey";

export function storedKey() {
  return sessionStorage.getItem(KEY_SLOT);
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_SLOT, key);
  else sessionStorage.removeItem(KEY_SLOT);
}

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// The endpoint is relative to the page, so a server mounted under a prefix still works.
const ENDPOINT = new URL("graphql", document.baseURI).toString();

export async function gql(query, variables = {}) {
  const key = storedKey();
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the server answered ${response.status} without a GraphQL body`, "HTTP");
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, (first.extensions && first.extensions.code) || "ERROR");
  }
  return body.data;
}

const NODE = "id kind label sanctioned restricted measures status detail legalBasis start end";
const LINK = "id type source target relation role share start end quantity fromId byId eventId";
const PATH = "nodes { id name kind } links { type from to role share start end }";

/** One request marking up to 25 nodes: each one's centre of an empty neighbourhood page. */
export function marksQuery(count) {
  const vars = Array.from({ length: count }, (_, i) => `$i${i}: ID!`).join(", ");
  const fields = Array.from(
    { length: count },
    (_, i) => `n${i}: neighbourhood(id: $i${i}, asOf: $asOf, first: 0) { center { ${NODE} } }`,
  ).join("\n");
  return `query Marks($asOf: Date, ${vars}) {\n${fields}\n}`;
}

export const Q = {
  viewer: "query Viewer { viewer { name role } }",
  search: `query Search($q: String!) {
    search(query: $q, first: 12) { totalCount edges { node { id name kind } } }
  }`,
  entity: "query Entity($id: ID!) { entity(id: $id) { id name kind } }",
  neighbourhood: `query Neighbourhood($id: ID!, $asOf: Date, $first: Int, $after: String) {
    neighbourhood(id: $id, asOf: $asOf, first: $first, after: $after) {
      center { ${NODE} } nodes { ${NODE} } links { ${LINK} }
      totalCount hasNextPage endCursor more { relation count }
    }
  }`,
  cycles: `query Cycles($id: ID!, $asOf: Date) {
    ownershipCycles(id: $id, asOf: $asOf) { length share path { ${PATH} } }
  }`,
  report: `query Report($id: ID!, $asOf: Date) {
    creditReport(id: $id, asOf: $asOf) {
      score grade
      sanctions { id list authority start end legalBasis status disputed description }
      restrictions { measure rule legalBasis disputed source { id list } path { ${PATH} } }
    }
  }`,
  owners: `query Owners($id: ID!, $asOf: Date) {
    beneficialOwners(id: $id, asOf: $asOf) {
      person { id name } effectiveShare controls paths { ${PATH} }
    }
  }`,
  paths: `query Paths($from: ID!, $to: ID!, $asOf: Date) {
    paths(from: $from, to: $to, asOf: $asOf, first: 3) { ${PATH} }
  }`,
};
