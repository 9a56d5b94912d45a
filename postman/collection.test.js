// After every request: errors keep FastAPI's {"detail": ...} shape, the gateway's included.
if (pm.response.code >= 400) {
    pm.test('Error body is JSON with a detail', function () {
        pm.expect(pm.response.json()).to.have.property('detail');
    });
}
