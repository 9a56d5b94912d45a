const task = expectOnlyTask('task_id');
pm.test('The matching task', function () {
    pm.expect(task.status).to.eql('Pending');
    pm.expect(task.title).to.include('documentation');
});
