expectTaskDeleted();
