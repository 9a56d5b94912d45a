const body = pm.response.json();
pm.test('Describes the API gateway', function () {
    pm.expect(body.service).to.eql('api_gateway');
    pm.expect(body.version).to.be.a('string');
    pm.expect(body.health).to.eql('/health');
    pm.expect(body.routes).to.eql('/routes');
});
