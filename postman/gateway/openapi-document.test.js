const doc = pm.response.json();
pm.test('Is an OpenAPI 3 document', function () {
    pm.expect(doc.openapi).to.match(/^3\./);
    pm.expect(doc.info.title).to.be.a('string');
});
pm.test('Covers every service', function () {
    expectOperations(doc, {
        '/auth/register': [],
        '/auth/login': [],
        '/auth/me': ['get', 'patch'],
        '/auth/me/password': [],
        '/auth/logout': [],
        '/tasks': [],
        '/tasks/{task_id}': ['get', 'put', 'patch', 'delete'],
        '/notifications': [],
        '/notifications/stream': []
    });
});
pm.test('Authorize logs in through the gateway', function () {
    const schemes = Object.values(doc.components.securitySchemes);
    pm.expect(schemes.some(function (scheme) {
        return scheme.type === 'oauth2' && scheme.flows.password.tokenUrl === '/auth/login';
    })).to.eql(true);
});
pm.test('Keeps the services\' own /health and /metrics out', function () {
    pm.expect(doc.paths).to.not.have.any.keys('/metrics', '/auth/health', '/tasks/health');
});
pm.test('Does not reveal service addresses', function () {
    const text = pm.response.text();
    ['auth_url', 'task_url', 'notification_url'].forEach(function (name) {
        pm.expect(text).to.not.include(pm.variables.get(name));
    });
});
