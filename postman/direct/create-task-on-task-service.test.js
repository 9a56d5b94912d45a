const task = pm.response.json();
pm.test('Returns the new task, owned by the caller', function () {
    expectTask(task);
    pm.expect(task.title).to.eql('Test Task');
    pm.expect(task.description).to.eql('Testing API');
    pm.expect(task.status).to.eql('Pending');
    pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
});
pm.collectionVariables.set('direct_task_id', task.id);
