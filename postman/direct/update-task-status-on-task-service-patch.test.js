pm.test('Only the status changed', function () {
    const task = pm.response.json();
    pm.expect(task.id).to.eql(Number(pm.collectionVariables.get('direct_task_id')));
    pm.expect(task.status).to.eql('Completed');
    pm.expect(task.title).to.eql('Direct title');
    pm.expect(task.description).to.eql('Direct description');
});
