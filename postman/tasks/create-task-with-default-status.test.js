const task = pm.response.json();
pm.test('Status defaults to Pending', function () {
    expectTask(task);
    pm.expect(task.title).to.eql('Review pull requests');
    pm.expect(task.description).to.eql(null);
    pm.expect(task.status).to.eql('Pending');
});
pm.collectionVariables.set('second_task_id', task.id);
