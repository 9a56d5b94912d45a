function expectTask(task) {
    pm.expect(task).to.include.all.keys('id', 'title', 'description', 'status', 'user_id', 'created_at', 'updated_at');
    pm.expect(task.id).to.be.a('number');
    pm.expect(['Pending', 'In Progress', 'Completed']).to.include(task.status);
    pm.expect(task.created_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    pm.expect(task.updated_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
}

const tasks = pm.response.json();
pm.test('Lists exactly the caller\'s two tasks', function () {
    pm.expect(tasks).to.be.an('array').with.lengthOf(2);
    tasks.forEach(expectTask);
    tasks.forEach(function (task) {
        pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('user_id')));
    });
    pm.expect(tasks.map(function (task) { return task.id; })).to.eql([
        Number(pm.collectionVariables.get('task_id')),
        Number(pm.collectionVariables.get('second_task_id'))
    ]);
});
pm.test('X-Total-Count header gives the total', function () {
    pm.response.to.have.header('X-Total-Count', '2');
});
