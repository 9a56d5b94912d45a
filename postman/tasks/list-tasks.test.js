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
