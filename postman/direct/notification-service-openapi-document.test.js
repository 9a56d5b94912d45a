const doc = pm.response.json();
pm.test('Is the Notification Service\'s own OpenAPI document', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
    pm.expect(doc.openapi).to.match(/^3\./);
    pm.expect(doc.info.title).to.eql('Notification Service');
});
pm.test('Describes its own endpoints', function () {
    pm.expect(doc.paths).to.include.all.keys('/notifications', '/notifications/stream', '/health');
});
