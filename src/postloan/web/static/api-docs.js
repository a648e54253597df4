// postloan API docs: start Swagger UI from the packaged bundle. A file, not an inline script:
// the Content-Security-Policy allows scripts from this origin only.
(function () {
  "use strict";
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }
  var csrf = meta("postloan-csrf");
  window.ui = SwaggerUIBundle({
    url: meta("postloan-openapi"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: "none", // never send the schema to validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    // A signed-in workbench user tries requests with the session cookie: writes then need the
    // session's CSRF token (a bearer token from "Authorize" needs none).
    requestInterceptor: function (request) {
      if (csrf) { request.headers["X-CSRF-Token"] = csrf; }
      return request;
    }
  });
})();
