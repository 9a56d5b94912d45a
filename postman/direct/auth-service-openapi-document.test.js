const doc = pm.response.json();
pm.test('Is the Auth Service\'s own OpenAPI document', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
    pm.expect(doc.openapi).to.match(/^3\./);
    pm.expect(doc.info.title).to.eql('Auth Service');
});
pm.test('Describes its own endpoints', function () {
    pm.expect(doc.paths).to.include.all.keys('/auth/register', '/auth/login', '/auth/me', '/auth/me/password', '/auth/logout', '/auth/verify', '/health');
    pm.expect(doc.paths['/auth/me']).to.include.all.keys('get', 'patch');
});
