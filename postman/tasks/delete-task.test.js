pm.test('Status code is 200', function () {
    pm.response.to.have.status(200);
});

pm.test('Confirms the deletion', function () {
    pm.expect(pm.response.json()).to.eql({ message: 'Task deleted successfully' });
});
