pm.test('Confirms the deletion', function () {
    pm.expect(pm.response.json()).to.eql({ message: 'Task deleted successfully' });
});
