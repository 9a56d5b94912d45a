pm.test('Returns the task', function () {
    const task = pm.response.json();
    expectTask(task);
    pm.expect(task.id).to.eql(Number(pm.collectionVariables.get('direct_task_id')));
    pm.expect(task.title).to.eql('Test Task');
});
