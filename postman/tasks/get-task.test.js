pm.test('Returns the task', function () {
    const task = pm.response.json();
    expectTask(task);
    pm.expect(task.id).to.eql(Number(pm.collectionVariables.get('task_id')));
    pm.expect(task.title).to.eql('Complete project documentation');
    pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('user_id')));
});
