pm.test('Says why: "Task not found"', function () {
    pm.expect(pm.response.json().detail).to.eql('Task not found');
});
