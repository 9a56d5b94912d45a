pm.test('Status code is 404', function () {
    pm.response.to.have.status(404);
});

pm.test('Says why: "Task not found"', function () {
    pm.expect(pm.response.json().detail).to.eql('Task not found');
});
