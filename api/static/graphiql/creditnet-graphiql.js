// creditnet's GraphiQL page: the API key lives in sessionStorage only (never in persistent storage,
// nor in GraphiQL's persisted headers), and the editor opens on an example credit-report query.
(function () {
  "use strict";
  var KEY_ITEM = "creditnet.apiKey";
  var input = document.getElementById("apikey");
  input.value = window.sessionStorage.getItem(KEY_ITEM) || "";
  input.addEventListener("input", function () {
    window.sessionStorage.setItem(KEY_ITEM, input.value.trim());
  });
  document.getElementById("keybar").addEventListener("submit", function (event) {
    event.preventDefault();
  });

  var EXAMPLE = [
    "# The credit report of a company or person: score, deductions and every restriction",
    "# with the sanction and the path it comes from. Put your API key in the box above.",
    "query CreditReport($id: ID!, $asOf: Date) {",
    "  creditReport(id: $id, asOf: $asOf) {",
    "    entity { id name }",
    "    asOf score grade",
    "    deductions { points reason source { id } }",
    "    restrictions {",
    "      measure rule legalBasis disputed",
    "      source { id list }",
    "      path { nodes { id kind } links { type from to } }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  var VARIABLES = JSON.stringify({ id: "91440307MA7X9X3T5F", asOf: null }, null, 2);

  function fetcher(params) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var key = window.sessionStorage.getItem(KEY_ITEM);
    if (key) {
      headers.Authorization = "Bearer " + key;
    }
    return fetch(window.location.pathname, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
      credentials: "omit",
    }).then(function (response) {
      return response.json();
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // tabs and queries are kept for the tab's life only, like the key
      storage: window.sessionStorage,
      shouldPersistHeaders: false,
      defaultQuery: EXAMPLE,
      defaultTabs: [{ query: EXAMPLE, variables: VARIABLES }],
    })
  );
})();
