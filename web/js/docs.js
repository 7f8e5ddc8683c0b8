// The API reference page (/docs): Swagger UI rendering the same /openapi.json the API serves.

const { SwaggerUIBundle } = /** @type {any} */ (window);

SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#api',
  // No call to the public validator service: the page talks to this origin only (CSP connect-src 'self').
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: true,
});
