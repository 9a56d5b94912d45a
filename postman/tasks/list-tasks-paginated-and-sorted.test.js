const tasks = pm.response.json();
pm.test('One task per page, newest first', function () {
    pm.expect(tasks).to.have.lengthOf(1);
    pm.expect(tasks[0].id).to.eql(Number(pm.collectionVariables.get('second_task_id')));
});
pm.test('X-Total-Count counts every match, not just the page', function () {
    pm.response.to.have.header('X-Total-Count', '2');
});
