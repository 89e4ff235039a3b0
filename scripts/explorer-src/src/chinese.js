// Search in simplified or traditional Chinese: the query is also sent converted each way. The
// dictionaries (about 1.2 MB) are loaded from this server on the first query with a CJK
// character, never before.

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
let converters = null;

async function load() {
  if (!converters) {
    converters = Promise.all([import("opencc-js/t2cn"), import("opencc-js/cn2t")]).then(
      ([t2cn, cn2t]) => ({
        toSimplified: t2cn.Converter({ from: "t", to: "cn" }),
        toTraditional: cn2t.Converter({ from: "cn", to: "t" }),
      }),
    );
  }
  return converters;
}

export async function variants(query) {
  const text = query.trim();
  if (!CJK.test(text)) return [text];
  const { toSimplified, toTraditional } = await load();
  return [...new Set([text, toSimplified(text), toTraditional(text)])];
}
