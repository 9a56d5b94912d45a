pm.test('Only the status changed', function () {
    const task = pm.response.json();
    pm.expect(task.status).to.eql('Completed');
    pm.expect(task.title).to.eql('Updated title');
    pm.expect(task.description).to.eql('Updated description');
});
