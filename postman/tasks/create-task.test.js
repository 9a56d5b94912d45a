const task = pm.response.json();
pm.test('Returns the new task, owned by the caller', function () {
    expectTask(task);
    pm.expect(task.title).to.eql('Complete project documentation');
    pm.expect(task.description).to.eql('Write comprehensive README and API docs');
    pm.expect(task.status).to.eql('Pending');
    pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('user_id')));
});
pm.collectionVariables.set('task_id', task.id);
