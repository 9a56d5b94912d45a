function expectTask(task) {
    pm.expect(task).to.include.all.keys('id', 'title', 'description', 'status', 'user_id', 'created_at', 'updated_at');
    pm.expect(task.id).to.be.a('number');
    pm.expect(['Pending', 'In Progress', 'Completed']).to.include(task.status);
    pm.expect(task.created_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    pm.expect(task.updated_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
}

const task = pm.response.json();
pm.test('Returns the new task, owned by the caller', function () {
    expectTask(task);
    pm.expect(task.title).to.eql('Complete project documentation');
    pm.expect(task.description).to.eql('Write comprehensive README and API docs');
    pm.expect(task.status).to.eql('Pending');
    pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('user_id')));
});
pm.collectionVariables.set('task_id', task.id);
