const task = expectOnlyTask('direct_task_id');
pm.test('The matching task', function () {
    pm.expect(task.status).to.eql('Completed');
    pm.expect(task.description).to.include('Direct');
});
