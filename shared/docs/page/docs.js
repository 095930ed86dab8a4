// Renders the API's OpenAPI document, served by the API itself next to
// this page (openapi.json, relative to /api/v1/docs). Nothing is fetched from
// elsewhere: the page's Content-Security-Policy would refuse it.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
