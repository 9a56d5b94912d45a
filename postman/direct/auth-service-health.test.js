const body = pm.response.json();
pm.test('auth_service reports itself healthy', function () {
    pm.expect(body.service).to.eql('auth_service');
    pm.expect(body.status).to.eql('ok');
    pm.expect(body.checks).to.be.an('object');
    Object.keys(body.checks).forEach(function (name) {
        pm.expect(body.checks[name], name).to.eql('ok');
    });
});
