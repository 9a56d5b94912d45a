pm.test('Returns the updated task', function () {
    const task = pm.response.json();
    expectTask(task);
    pm.expect(task.id).to.eql(Number(pm.collectionVariables.get('direct_task_id')));
    pm.expect(task.user_id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
    pm.expect(task.title).to.eql('Direct title');
    pm.expect(task.description).to.eql('Direct description');
    pm.expect(task.status).to.eql('In Progress');
    pm.expect(Date.parse(task.updated_at)).to.be.at.least(Date.parse(task.created_at));
});
